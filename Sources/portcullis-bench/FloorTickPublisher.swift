import NIOCore

/// Publishes broadcasts to the floor server: a text message `fire {"t":…}` over one
/// control connection of its own (not counted among the subscribers).
struct FloorTickPublisher: TickPublisher {
    private let eventLoop: any EventLoop
    private let pool: NIOLoopBound<ConnectionPool>

    init(url: WebSocketURL, eventLoop: any EventLoop) async throws {
        let connector = try WebSocketConnector(
            url: url,
            sources: SourceAddresses(argument: "none")!,
            handshakeTimeout: .seconds(10)
        )
        self.eventLoop = eventLoop
        let pool = try await eventLoop.submit {
            NIOLoopBound(
                ConnectionPool(eventLoop: eventLoop, connector: connector, role: IdleConnections()),
                eventLoop: eventLoop)
        }.get()
        self.pool = pool
        let report = try await eventLoop.flatSubmit {
            pool.value.grow(to: 1, rate: 10, maxPending: 1, maxFailures: 3) { _ in }
        }.get()
        guard report.open == 1 else {
            throw BenchError.publishFailed("no control connection to the floor server: \(report.firstError ?? "?")")
        }
    }

    func publish(t: UInt64) async throws {
        let pool = self.pool
        try await self.eventLoop.submit {
            guard let connection = pool.value.connections.first else {
                throw BenchError.publishFailed("the floor server closed the control connection")
            }
            connection.sendText(ByteBuffer(string: "fire " + TickMessage.data(t: t)))
        }.get()
    }

    func close() async {
        let pool = self.pool
        _ = try? await self.eventLoop.flatSubmit { pool.value.closeAll() }.get()
    }
}
