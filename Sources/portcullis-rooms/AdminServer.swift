import Atomics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisConfig
import PortcullisRooms
import Prometheus
import ServiceLifecycle

/// The worker's own admin listener (`admin.address`): `GET /metrics` (Prometheus text),
/// `GET /healthz` (200 while running, 503 once a graceful stop began) and `GET /readyz`
/// (200 when Redis answers and every app's consumer group exists, else 503 with why).
struct AdminServer: Service {
    let address: HostPort
    let registry: PrometheusCollectorRegistry
    let readiness: RoomsReadiness
    let logger: Logger

    func run() async throws {
        let stopping = ManagedAtomic(false)
        let (registry, readiness) = (self.registry, self.readiness)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        AdminHandler(registry: registry, readiness: readiness, stopping: stopping))
                }
            }
            .bind(host: self.address.host, port: self.address.port)
            .get()
        self.logger.info("rooms admin listening", metadata: ["address": "\(self.address)"])
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        try? await channel.close()
    }
}

private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    let readiness: RoomsReadiness
    let stopping: ManagedAtomic<Bool>
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, readiness: RoomsReadiness, stopping: ManagedAtomic<Bool>) {
        self.registry = registry
        self.readiness = readiness
        self.stopping = stopping
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let (status, text) = self.answer(head)
            var body = context.channel.allocator.buffer(capacity: text.utf8.count)
            body.writeString(text)
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            headers.add(name: "content-length", value: "\(body.readableBytes)")
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            if head.method != .HEAD {
                context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, "GET only\n") }
        switch head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri {
        case "/healthz":
            return self.stopping.load(ordering: .relaxed) ? (.serviceUnavailable, "stopping\n") : (.ok, "ok\n")
        case "/readyz":
            if self.stopping.load(ordering: .relaxed) { return (.serviceUnavailable, "stopping\n") }
            return self.readiness.problem().map { (.serviceUnavailable, $0 + "\n") } ?? (.ok, "ready\n")
        case "/metrics":
            return (.ok, self.registry.emitToString())
        default:
            return (.notFound, "404 Not Found\n")
        }
    }
}
