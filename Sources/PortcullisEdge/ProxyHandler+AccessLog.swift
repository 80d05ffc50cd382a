import Logging
import NIOCore
import NIOHTTP1

/// The end of every request: its counter and duration histogram, and its `request` line
/// in the access log (`edge.access_log`).
///
/// The line's fields: `listener`, `route`, `method`, `path` (the normalized path the
/// router matched, without the query), `status`, `bytes.in`, `bytes.out`, `duration.ms`,
/// `upstream` (the server that answered, or `-`), `user.agent`, `subject` (the verified
/// `sub`, or `-`), `request.id`, `client` and, when the exchange did not simply end,
/// `outcome`.
extension ProxyHandler {
    func logAccess(_ exchange: Exchange, outcome: String? = nil) {
        let elapsed = NIODeadline.now() - exchange.started
        pool.requestMetrics.record(
            route: exchange.route.name, status: exchange.status?.code ?? 0, nanoseconds: elapsed.nanoseconds)
        guard environment.accessLog else { return }
        var metadata = accessMetadata(
            head: exchange.head, route: exchange.route.name, status: exchange.status?.code ?? 0,
            requestId: exchange.requestId, server: exchange.server, subject: exchange.subject, elapsed: elapsed)
        metadata["bytes.in"] = "\(exchange.requestBytes)"
        metadata["bytes.out"] = "\(exchange.responseBytes)"
        if let outcome { metadata["outcome"] = "\(outcome)" }
        environment.logger.info("request", metadata: metadata)
    }

    /// A response the edge wrote itself (refusals, 404, 413, 502, 504, socket routes'
    /// handshakes and polls).
    func logLocalAnswer(
        head: HTTPRequestHead, route: String, status: UInt, requestId: String, server: String?, bytesOut: Int,
        subject: String? = nil, outcome: String?
    ) {
        let elapsed = NIODeadline.now() - requestStarted
        pool.requestMetrics.record(route: route, status: status, nanoseconds: elapsed.nanoseconds)
        guard environment.accessLog else { return }
        var metadata = accessMetadata(
            head: head, route: route, status: status, requestId: requestId, server: server, subject: subject,
            elapsed: elapsed)
        metadata["bytes.out"] = "\(bytesOut)"
        metadata["outcome"] = "\(outcome ?? "-")"
        environment.logger.info("request", metadata: metadata)
    }

    private func accessMetadata(
        head: HTTPRequestHead, route: String, status: UInt, requestId: String, server: String?, subject: String?,
        elapsed: TimeAmount
    ) -> Logger.Metadata {
        [
            "listener": "\(environment.listener)", "route": "\(route)", "method": "\(head.method.rawValue)",
            "path": "\(Self.pathWithoutQuery(head.uri))", "status": "\(status)", "upstream": "\(server ?? "-")",
            "duration.ms": "\(Double(elapsed.nanoseconds) / 1_000_000)",
            "user.agent": "\(head.headers.first(name: "user-agent") ?? "-")", "subject": "\(subject ?? "-")",
            "request.id": "\(requestId)", "client": "\(requestClient)",
        ]
    }

    /// The request target up to its query string.
    static func pathWithoutQuery(_ target: String) -> Substring {
        target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
    }
}
