import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens client WebSocket connections: bind a loopback source address, connect, handshake
/// (offering the protocol's subprotocol), then hand the connection to a
/// ``ClientWebSocketHandler`` for the delegate, which runs the protocol's own handshake.
///
/// Sockets set IP_BIND_ADDRESS_NO_PORT before binding, so `bind((addr, 0))` does not pick
/// the port yet: the kernel picks it at connect time, when it knows the destination, and
/// one source address serves every destination port instead of ~28,000 connections total.
struct WebSocketConnector: Sendable {
    /// `IP_BIND_ADDRESS_NO_PORT` from linux/in.h (not exported by Glibc's headers).
    static let bindAddressNoPort = ChannelOptions.Types.SocketOption(
        level: .ip,
        name: NIOBSDSocket.Option(rawValue: 24)
    )
    /// The largest message a client accepts (the servers here send small JSON).
    static let maxFrameSize = 1 << 20

    let url: WebSocketURL
    let sources: SourceAddresses
    /// For connect, upgrade and the protocol's handshake together.
    let handshakeTimeout: TimeAmount
    let wireProtocol: ClientProtocol
    /// Offer permessage-deflate.
    let deflate: Bool
    private let server: SocketAddress

    init(
        url: WebSocketURL,
        sources: SourceAddresses,
        handshakeTimeout: TimeAmount,
        wireProtocol: ClientProtocol = .raw,
        deflate: Bool = false
    ) throws {
        self.url = url
        self.sources = sources
        self.handshakeTimeout = handshakeTimeout
        self.wireProtocol = wireProtocol
        self.deflate = deflate
        self.server = try url.socketAddress()
    }

    /// Connects the `index`-th connection (which picks its source address); the future
    /// succeeds once the upgrade and the protocol's handshake are complete (the delegate
    /// calls ``ClientWebSocketHandler/markReady()``).
    func connect(
        index: Int,
        on eventLoop: any EventLoop,
        delegate: NIOLoopBound<any ClientWebSocketDelegate>
    ) -> EventLoopFuture<Void> {
        let outcome = eventLoop.makePromise(of: Void.self)
        let (url, wireProtocol, deflate) = (self.url, self.wireProtocol, self.deflate)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(self.handshakeTimeout)
        do {
            if let source = try self.sources.address(for: index) {
                bootstrap = bootstrap.channelOption(Self.bindAddressNoPort, value: 1).bind(to: source)
            }
        } catch {
            outcome.fail(error)
            return outcome.futureResult
        }
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try Self.configure(
                    channel: channel, url: url, wireProtocol: wireProtocol, deflate: deflate, outcome: outcome,
                    delegate: delegate)
            }
        }
        let timeout = eventLoop.scheduleTask(in: self.handshakeTimeout) {
            outcome.fail(BenchError.handshakeTimeout)
        }
        bootstrap.connect(to: self.server).whenComplete { result in
            switch result {
            case .success(let channel):
                outcome.futureResult.whenFailure { _ in channel.close(promise: nil) }
            case .failure(let error):
                outcome.fail(error)
            }
        }
        outcome.futureResult.whenComplete { _ in timeout.cancel() }
        return outcome.futureResult
    }

    private static func configure(
        channel: any Channel,
        url: WebSocketURL,
        wireProtocol: ClientProtocol,
        deflate: Bool,
        outcome: EventLoopPromise<Void>,
        delegate: NIOLoopBound<any ClientWebSocketDelegate>
    ) throws {
        let requestHandler = UpgradeRequestHandler(
            url: url, subprotocol: wireProtocol.subprotocol, offerDeflate: deflate, outcome: outcome)
        let boundRequestHandler = NIOLoopBound(requestHandler, eventLoop: channel.eventLoop)
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: Self.maxFrameSize) { channel, response in
            channel.eventLoop.makeCompletedFuture {
                let accepted = response.headers["sec-websocket-extensions"].contains {
                    $0.lowercased().hasPrefix("permessage-deflate")
                }
                let handler = ClientWebSocketHandler(
                    delegate: delegate.value, session: ClientSession(wireProtocol), ready: outcome,
                    deflate: deflate && accepted ? ClientDeflate() : nil)
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        // Bytes that came in the same read as the 101 (Engine.IO's open packet, ActionCable's
        // welcome: servers that speak first) must reach the WebSocket decoder, not be dropped
        // with the HTTP decoder.
        try channel.pipeline.syncOperations.addHTTPClientHandlers(
            leftOverBytesStrategy: .forwardBytes,
            withClientUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    context.pipeline.syncOperations.removeHandler(boundRequestHandler.value, promise: nil)
                }
            )
        )
        try channel.pipeline.syncOperations.addHandler(requestHandler)
    }
}
