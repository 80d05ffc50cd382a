import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// The admin listener's endpoints. `/healthz` answers 200 while serving and 503 while
/// draining, so a load balancer stops sending new traffic before the edge exits.
/// `GET /metrics` is the Prometheus text format. `POST /reload` rebuilds the snapshot and
/// answers 200 or, for a refused conf, 422 with the validation errors. The publish API
/// (`POST /publish`, `/emit/…`, `/_broadcast`) is in `AdminHandler+Publish.swift`.
///
/// Requests are answered one at a time (NIO's pipeline handler holds pipelined ones back
/// until the answer is written). Bodies are only kept for the publish API, up to its
/// `max_body_size`.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the publish API needs from the listener.
    struct Publishing {
        /// Where the current key, limits and `emit_endpoints` route are read per request.
        var snapshots: SnapshotBox
        /// nil when the edge has no Redis (then publishing is refused by validation anyway).
        var publisher: (any EnvelopePublisher)?
        /// Whether the admin listener speaks TLS (`admin.tls`).
        var overTLS: Bool
        var logger: Logger
    }

    /// The request being read.
    enum Request {
        /// `/healthz`, `/metrics`, `/reload` and unknown paths; any body is ignored.
        case admin(HTTPRequestHead)
        /// A publish request refused on its head; answered once its body has gone by.
        case refused(HTTPRequestHead, endpoint: String, PublishError)
        /// A publish request whose body is being collected into ``body``.
        case publish(HTTPRequestHead, PublishEndpoint, PublishPolicy)
        /// Answered early (a body over the limit) and closing: the rest is dropped.
        case discarding
    }

    private let state: EdgeState
    private let reloader: ConfigReloader?
    private let metrics: PrometheusCollectorRegistry?
    let publishing: Publishing?
    var request: Request?
    /// The body of a ``Request/publish`` request so far.
    var body = ByteBuffer()

    init(
        state: EdgeState, reloader: ConfigReloader?, metrics: PrometheusCollectorRegistry?,
        publishing: Publishing? = nil
    ) {
        self.state = state
        self.reloader = reloader
        self.metrics = metrics
        self.publishing = publishing
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = admit(head, context: context)
        case .body(var buffer):
            collect(&buffer, context: context)
        case .end:
            let finished = request
            request = nil
            switch finished {
            case .admin(let head):
                respond(to: head, context: context)
            case .refused(let head, let endpoint, let error):
                refuse(error, endpoint: endpoint, head: head, context: context)
            case .publish(let head, let endpoint, let policy):
                publish(endpoint, policy: policy, head: head, context: context)
            case .discarding, nil:
                break
            }
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

    /// Writes a whole response; with `close`, closes the connection once it is written.
    func write(
        _ status: HTTPResponseStatus, _ text: String, version: HTTPVersion, context: ChannelHandlerContext,
        contentType: String = "text/plain; charset=utf-8", headers extra: [(String, String)] = [], close: Bool = false
    ) {
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        for (name, value) in extra {
            headers.add(name: name, value: value)
        }
        if close {
            headers.add(name: "connection", value: "close")
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
