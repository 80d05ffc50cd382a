import NIOCore
import NIOHTTP1
import Prometheus

/// The admin listener's endpoints. `/healthz` answers 200 while serving and 503 while
/// draining, so a load balancer stops sending new traffic before the edge exits.
/// `GET /metrics` is the Prometheus text format. `POST /reload` rebuilds the snapshot and answers 200 or, for a refused conf, 422 with
/// the validation errors.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: EdgeState
    private let reloader: ConfigReloader?
    private let metrics: PrometheusCollectorRegistry?
    private var head: HTTPRequestHead?

    init(state: EdgeState, reloader: ConfigReloader?, metrics: PrometheusCollectorRegistry?) {
        self.state = state
        self.reloader = reloader
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let (status, text): (HTTPResponseStatus, String)
        switch (head.method, path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            (status, text) = state.isDraining ? (.serviceUnavailable, "draining\n") : (.ok, "ok\n")
        case (.GET, "/metrics"):
            guard let metrics else {
                (status, text) = (.notFound, "metrics are not enabled\n")
                break
            }
            (status, text) = (.ok, metrics.emitToString())
        case (.POST, "/reload"):
            guard let reloader else {
                (status, text) = (.notFound, "reload is not enabled\n")
                break
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            Task {
                let outcome = await reloader.reload(reason: "admin")
                loopBound.eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.write(
                        outcome.applied ? .ok : .unprocessableEntity, outcome.message + "\n", version: head.version,
                        context: context)
                }
            }
            return
        default:
            (status, text) = (.notFound, "404 Not Found\n")
        }
        write(status, text, version: head.version, context: context)
    }

    private func write(
        _ status: HTTPResponseStatus, _ text: String, version: HTTPVersion, context: ChannelHandlerContext
    ) {
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
