import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// `portcullis-bench floor-server`: the reference floor for broadcasts and echoes — a
/// minimal NIO WebSocket server on one event loop that holds connections, fans a `fire`
/// out to all of them as one pre-encoded frame, and echoes other text.
///
/// Prints `{"type":"listening",…}` once bound, and `{"type":"stopped",…}` with its counters
/// on SIGINT/SIGTERM. It ignores stdin, so it can run with stdin closed.
struct FloorServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor-server",
        abstract: "Reference WebSocket server: holds connections, broadcasts on `fire`, echoes text."
    )

    @Option(help: "Address to listen on (loopback).")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed in the listening line).")
    var port: Int

    @Option(help: "Accept backlog (capped by net.core.somaxconn).")
    var backlog: Int32 = 4096

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be 0…65535") }
        guard self.host.hasPrefix("127.") else { throw ValidationError("--host must be a 127.x address") }
    }

    func run() async throws {
        let fdLimit = FileDescriptorLimit.raiseToHardLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub = try await loop.submit { NIOLoopBound(FloorHub(), eventLoop: loop) }.get()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawFrameWriter(hub: hub.value), position: .first)
                    try channel.pipeline.syncOperations.addHandler(FloorConnectionHandler(hub: hub.value))
                }
            }
        )
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: self.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                }
            }
            .bind(host: self.host, port: self.port)
            .get()
        JSONLines.emit(
            ListeningLine(
                type: "listening",
                host: self.host,
                port: channel.localAddress?.port ?? self.port,
                fdLimit: fdLimit
            )
        )
        for await words in ControlInput.commands(readStdin: false) where words.first == "quit" {
            break
        }
        let stopped = try await loop.submit {
            StoppedLine(
                type: "stopped",
                connections: hub.value.connectionCount,
                peakConnections: hub.value.peakConnections,
                broadcasts: hub.value.broadcasts,
                framesWritten: hub.value.framesWritten
            )
        }.get()
        try? await channel.close()
        try? await group.shutdownGracefully()
        JSONLines.emit(stopped)
    }
}
