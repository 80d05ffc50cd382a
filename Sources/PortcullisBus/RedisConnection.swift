import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One open connection to Redis, pipelined: any number of commands may be in flight and
/// replies complete them in order.
///
/// ``connect(to:on:logger:)`` (or the future-based ``makeConnection(to:on:logger:)``) opens
/// the socket, runs TLS when the configuration has ``RedisConfiguration/tls``, and runs `AUTH`
/// and `SELECT` from the configuration before it hands the connection out. An error reply fails only its own command; when the connection is lost
/// every command in flight fails with ``RedisError/Code/connectionClosed`` and later commands
/// fail at once — a connection never reconnects (``RedisClient`` does). A blocking command
/// (`XREAD BLOCK`, `XREADGROUP BLOCK`) holds back every command sent after it until it
/// returns, so give blocking readers their own connection. Pub/sub is not supported. Safe to
/// use from any thread.
///
/// `send` exists as a future-returning and an async method; in an async function
/// `try await connection.send(…)` picks the async one. In top-level code (`main.swift`) Swift
/// prefers the synchronous overload when the result is discarded: annotate the type
/// (`let _: RESPValue = try await …`) there.
public final class RedisConnection: RedisCommandSender {
    private let channel: any Channel
    /// Where this connection goes (for logs and errors).
    public let endpoint: RedisConfiguration.Endpoint

    public var eventLoop: any EventLoop { self.channel.eventLoop }

    /// Succeeds once the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    public var isActive: Bool { self.channel.isActive }

    /// Why the channel closed, once it has.
    private let closeReason: RedisCloseReason

    private init(channel: any Channel, endpoint: RedisConfiguration.Endpoint, closeReason: RedisCloseReason) {
        self.channel = channel
        self.endpoint = endpoint
        self.closeReason = closeReason
    }

    /// Opens a connection on `eventLoop` and runs the configured handshake; the future-based
    /// form of ``connect(to:on:logger:)``.
    ///
    /// Fails with ``RedisError/Code/connectFailed`` when the socket cannot be opened, when the
    /// TLS handshake fails (an untrusted or misnamed server certificate), or when `AUTH` or
    /// `SELECT` is refused (the server's reply is in `serverCode` and `message`) or takes
    /// longer than `connectTimeout`; with ``RedisError/Code/tlsSetupFailed`` when the TLS files
    /// cannot be used.
    public static func makeConnection(
        to configuration: RedisConfiguration,
        on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls?.makeContext()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return Self.makeConnection(to: configuration, sslContext: sslContext, on: eventLoop, logger: logger)
    }

    /// `sslContext` is `configuration.tls` already built (a client builds it once); nil
    /// without TLS.
    static func makeConnection(
        to configuration: RedisConfiguration,
        sslContext: NIOSSLContext?,
        on eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let endpoint = configuration.endpoint
        let timeout = TimeAmount(configuration.connectTimeout)
        // SNI carries a name only; without server_name an IP host is verified against the
        // certificate's IP addresses instead (NIOSSL does that when the hostname is nil).
        let serverName = configuration.tls?.serverName ?? endpoint.host.flatMap { Self.isIPAddress($0) ? nil : $0 }
        let closeReason = RedisCloseReason()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.configureRedisPipeline(logger: logger, closeReason: closeReason)
                }
            }
        let channelFuture: EventLoopFuture<any Channel>
        if let path = endpoint.socketPath {
            channelFuture = bootstrap.connect(unixDomainSocketPath: path)
        } else {
            channelFuture = bootstrap.connect(host: endpoint.host ?? "localhost", port: endpoint.port ?? 6379)
        }
        return channelFuture.flatMapError { error in
            eventLoop.makeFailedFuture(
                RedisError(
                    code: .connectFailed,
                    message: "could not connect to Redis at \(endpoint)",
                    isRetrySafe: true,
                    underlying: error
                )
            )
        }.flatMap { channel in
            let connection = RedisConnection(channel: channel, endpoint: endpoint, closeReason: closeReason)
            // A server that accepts the socket but never answers must not hang the caller.
            let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            return connection.handshake(configuration).always { _ in
                deadline.cancel()
            }.flatMapError { error in
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(Self.handshakeError(error, endpoint: endpoint))
            }.map {
                logger.debug("Connected to Redis", metadata: ["redis.endpoint": "\(endpoint)"])
                return connection
            }
        }
    }

    /// Opens a connection on `eventLoop` and runs the configured handshake (AUTH, SELECT,
    /// then a PING that a server still loading its data set refuses with -LOADING).
    ///
    /// Throws ``RedisError`` with code ``RedisError/Code/connectFailed`` when the socket
    /// cannot be opened, or when AUTH or SELECT is refused (the server's reply is in
    /// `serverCode` and `message`) or takes longer than `connectTimeout`.
    public static func connect(
        to configuration: RedisConfiguration,
        on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) async throws -> RedisConnection {
        try await Self.makeConnection(to: configuration, on: eventLoop, logger: logger).get()
    }

    public func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue> {
        let promise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        self.write(command, promise: promise)
        return promise.futureResult
    }

    /// Sends `command`; its reply (or failure) completes `promise`.
    func write(_ command: [RedisArgument], promise: EventLoopPromise<RESPValue>) {
        guard !command.isEmpty else {
            promise.fail(RedisError(code: .invalidArgument, message: "empty Redis command", isRetrySafe: true))
            return
        }
        if self.channel.eventLoop.inEventLoop {
            self.writeOnLoop(command, promise: promise)
        } else {
            self.channel.eventLoop.execute { self.writeOnLoop(command, promise: promise) }
        }
    }

    private func writeOnLoop(_ command: [RedisArgument], promise: EventLoopPromise<RESPValue>) {
        // Once the channel is inactive its handlers may be gone and the request would never
        // reach the command handler; while it is active (checked on the loop) the handler
        // is there and owns the promise from then on.
        guard self.channel.isActive else {
            var error = self.closeReason.error ?? RedisError.connectionClosed()
            error.isRetrySafe = true  // never written
            promise.fail(error)
            return
        }
        self.channel.writeAndFlush(RedisRequest(command: command, promise: promise), promise: nil)
    }

    /// Closes the connection; commands in flight fail with ``RedisError/Code/connectionClosed``.
    /// Succeeds once closed, also when it already was.
    @discardableResult
    public func close() -> EventLoopFuture<Void> {
        self.channel.close(promise: nil)
        return self.channel.closeFuture
    }

    /// Async variant of ``close()``.
    public func close() async {
        _ = try? await self.close().get()
    }

    private func handshake(_ configuration: RedisConfiguration) -> EventLoopFuture<Void> {
        var steps: [EventLoopFuture<RESPValue>] = []
        if let password = configuration.password {
            if let username = configuration.username {
                steps.append(self.send(["AUTH", RedisArgument(username), RedisArgument(password)]))
            } else {
                steps.append(self.send(["AUTH", RedisArgument(password)]))
            }
        }
        if configuration.database != 0 {
            steps.append(self.send(["SELECT", RedisArgument(configuration.database)]))
        }
        // A restarted Redis accepts connections while it loads its AOF or RDB file, but
        // answers every command with -LOADING until it is done (AUTH and SELECT excepted).
        // A PING refused that way fails the handshake, so the client retries with backoff,
        // keeping what it buffered instead of flushing it into errors. Other PING errors
        // (-NOAUTH without a password) surface on the commands themselves, as before. A
        // connection lost meanwhile (a failed TLS handshake) fails the handshake too: a
        // closed connection must never be handed out as connected.
        let ping = self.send(["PING"]).flatMapError { error -> EventLoopFuture<RESPValue> in
            let redisError = error as? RedisError
            if redisError?.serverCode == "LOADING" || redisError?.code != .server {
                return self.channel.eventLoop.makeFailedFuture(error)
            }
            return self.channel.eventLoop.makeSucceededFuture(.nullBulkString)
        }
        steps.append(ping)
        // All are pipelined; the first failure (AUTH's, when it fails) is reported.
        return EventLoopFuture.whenAllComplete(steps, on: self.channel.eventLoop).flatMapThrowing { results in
            for result in results {
                _ = try result.get()
            }
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    private static func handshakeError(_ error: any Error, endpoint: RedisConfiguration.Endpoint) -> RedisError {
        let redisError = error as? RedisError
        if let tlsError = redisError?.underlying ?? (redisError == nil ? error : nil),
            tlsError is NIOSSLError || tlsError is NIOSSLExtraError || tlsError is BoringSSLError
        {
            return RedisError(
                code: .connectFailed,
                message: "TLS handshake with Redis at \(endpoint) failed (is ca_file the CA that signed the "
                    + "server's certificate, and does the certificate name server_name or the host?)",
                isRetrySafe: true,
                underlying: tlsError
            )
        }
        return RedisError(
            code: .connectFailed,
            message: "Redis at \(endpoint) refused the handshake: \(redisError?.message ?? "\(error)")",
            serverCode: redisError?.serverCode,
            isRetrySafe: true,
            underlying: error
        )
    }
}
