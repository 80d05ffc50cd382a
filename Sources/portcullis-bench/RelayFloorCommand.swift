import ArgumentParser
import NIOCore
import NIOPosix

/// `portcullis-bench relay-floor`: the reference floor for the proxy path — a bare NIO TCP
/// relay on one event loop that pairs each client connection with its own connection to
/// the backend and copies bytes both ways, with no parsing, routing or headers.
///
/// A proxied keep-alive request costs it exactly what NIO's channel pipeline costs for two
/// reads and two writes, so `scripts/bench/proxy-ab --nio-floor` shows how much of the gap
/// between the edge and nginx is NIO's own, measured rather than read off a profile.
struct RelayFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-floor",
        abstract: "Reference TCP relay on one NIO event loop: the floor of a proxied request."
    )

    @Option(help: "Port to listen on (loopback).")
    var port: Int

    @Option(help: "Backend port to relay to (loopback).")
    var upstream: Int

    func validate() throws {
        guard (1...65535).contains(self.port), (1...65535).contains(self.upstream) else {
            throw ValidationError("--port and --upstream must be 1…65535")
        }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try SocketAddress(ipAddress: "127.0.0.1", port: self.upstream)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                client.eventLoop.makeCompletedFuture {
                    try client.pipeline.syncOperations.addHandler(RelayHandler(connectingTo: backend))
                }
            }
            .bind(host: "127.0.0.1", port: self.port)
            .get()
        JSONLines.emit(ListeningLine(type: "listening", host: "127.0.0.1", port: self.port, fdLimit: 0))
        for await words in ControlInput.commands(readStdin: false) where words.first == "quit" {
            break
        }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// One side of a relayed pair: what it reads goes to its peer, flushed once per read
/// burst, and closing either side closes the other. The client's side connects its peer
/// when it becomes active and reads nothing until the peer is up.
final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var peer: Channel?
    private let backend: SocketAddress?

    init(connectingTo backend: SocketAddress) {
        self.backend = backend
    }

    private init(peer: Channel) {
        self.peer = peer
        self.backend = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let backend = self.backend else { return }
        let client = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    try upstream.pipeline.syncOperations.addHandler(RelayHandler(peer: client.value.1.channel))
                }
            }
            .connect(to: backend)
            .whenComplete { result in
                let (handler, context) = client.value
                switch result {
                case .success(let upstream):
                    handler.peer = upstream
                    context.channel.setOption(.autoRead, value: true).whenComplete { _ in }
                    context.read()
                case .failure:
                    context.close(promise: nil)
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.peer?.write(self.unwrapInboundIn(data), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.peer?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.peer?.close(promise: nil)
        self.peer = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
