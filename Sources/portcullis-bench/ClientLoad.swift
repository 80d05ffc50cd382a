import NIOCore
import NIOPosix

/// A load generator: one event loop (the generator is pinned to one CPU, and one loop
/// keeps every counter and histogram lock-free), a ``ConnectionPool`` and the load's own
/// delegate (`Role`), both living on that loop.
///
/// Its async methods are what subcommands call from their main task; progress and ramp
/// lines go to stdout as JSON lines.
struct ClientLoad<Role: ClientWebSocketDelegate>: Sendable {
    let group: MultiThreadedEventLoopGroup
    let eventLoop: any EventLoop
    let pool: NIOLoopBound<ConnectionPool>
    let role: NIOLoopBound<Role>
    private let rate: Double
    private let maxPending: Int
    private let maxFailures: Int?

    /// Starts the loop and makes the pool, whose connections speak `wireProtocol`;
    /// `makeRole` runs on the loop (which it is given).
    static func start(
        options: ClientOptions,
        wireProtocol: ClientProtocol = .raw,
        makeRole: @escaping @Sendable (any EventLoop) -> Role
    ) async throws -> ClientLoad {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let connector = try WebSocketConnector(
            url: options.url,
            sources: options.sourceAddresses,
            handshakeTimeout: .seconds(Int64(options.handshakeTimeout)),
            wireProtocol: wireProtocol,
            deflate: options.deflate
        )
        let (pool, role) = try await eventLoop.submit {
            let role = makeRole(eventLoop)
            let pool = ConnectionPool(eventLoop: eventLoop, connector: connector, role: role)
            return (NIOLoopBound(pool, eventLoop: eventLoop), NIOLoopBound(role, eventLoop: eventLoop))
        }.get()
        return ClientLoad(
            group: group,
            eventLoop: eventLoop,
            pool: pool,
            role: role,
            rate: options.ramp.perSecond,
            maxPending: options.maxPending,
            maxFailures: options.maxFailures
        )
    }

    /// Ramps up to `target` open connections (or closes down to it); prints progress lines
    /// and returns the final report (`ready` or `ramp_failed`).
    func resize(to target: Int) async throws -> RampReport {
        let pool = self.pool
        let (rate, maxPending) = (self.rate, self.maxPending)
        let maxFailures = self.maxFailures ?? max(10, target / 100)
        return try await self.eventLoop.flatSubmit {
            if target <= pool.value.openCount {
                pool.value.shrink(to: target)
                return pool.value.eventLoop.makeSucceededFuture(pool.value.report(type: "ready"))
            }
            return pool.value.grow(to: target, rate: rate, maxPending: maxPending, maxFailures: maxFailures) {
                JSONLines.emit($0)
            }
        }.get()
    }

    var openCount: Int {
        get async throws {
            let pool = self.pool
            return try await self.eventLoop.submit { pool.value.openCount }.get()
        }
    }

    func report(type: String) async throws -> RampReport {
        let pool = self.pool
        return try await self.eventLoop.submit { pool.value.report(type: type) }.get()
    }

    /// Runs `body` on the loop with the pool and the role.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (ConnectionPool, Role) throws -> T) async throws -> T {
        let (pool, role) = (self.pool, self.role)
        return try await self.eventLoop.submit { try body(pool.value, role.value) }.get()
    }

    /// Like ``onLoop(_:)`` for work that completes later (a future made on the loop).
    func onLoopLater<T: Sendable>(
        _ body: @escaping @Sendable (ConnectionPool, Role) -> EventLoopFuture<T>
    ) async throws -> T {
        let (pool, role) = (self.pool, self.role)
        return try await self.eventLoop.flatSubmit { body(pool.value, role.value) }.get()
    }

    /// Serves driver commands until `quit`, end of input or a signal: `target N` (resize to
    /// N), `stats`, and the verbs `other` knows — it gets the verb, its number if any, and the
    /// last target, and returns false for a verb it does not know (an `error` line).
    func serveCommands(
        _ commands: AsyncStream<[String]>,
        other: (_ verb: String, _ number: Int?, _ target: Int) async throws -> Bool = { _, _, _ in false }
    ) async throws {
        var target = try await self.openCount
        for await words in commands {
            let number = words.count == 2 ? Int(words[1]) : nil
            switch words[0] {
            case "quit":
                return
            case "target" where (number ?? -1) >= 0:
                target = number!
                JSONLines.emit(try await self.resize(to: target))
            case "stats":
                JSONLines.emit(try await self.report(type: "stats"))
            default:
                if try await !other(words[0], number, target) {
                    JSONLines.emit(
                        ErrorLine(type: "error", message: "unknown command: \(words.joined(separator: " "))"))
                }
            }
        }
    }

    /// Closes every connection (close handshake, 3 s at most) and stops the loop.
    func shutdown() async {
        let pool = self.pool
        _ = try? await self.eventLoop.flatSubmit { pool.value.closeAll() }.get()
        try? await self.group.shutdownGracefully()
    }
}
