import NIOCore
import NIOHTTP1
import PortcullisAuth
import PortcullisHTTP

/// Answers the edge gives itself: refused requests (strict request path and auth), and
/// local replies (404, 413, 502, 504, `OPTIONS *`), each counted and logged once.
extension ProxyHandler {
    /// Answers a refused request with the refusal's status; the connection closes after
    /// it. `exchange` nil: a refused head, in which nothing is believed, not even a
    /// forwarding chain.
    func answerRefusal(_ refusal: RequestRefusal, of exchange: Exchange?, context: ChannelHandlerContext) {
        if exchange == nil {
            requestClient = clientAddress
            requestStarted = .now()
        }
        let id = exchange?.requestId ?? requestIds.make()
        let route = exchange?.route.name ?? "-"
        EdgeMetrics.shared.requestRefused(reason: refusal.code.description)
        pool.requestMetrics.record(
            route: route, status: UInt(refusal.status), nanoseconds: (NIODeadline.now() - requestStarted).nanoseconds)
        environment.logger.info(
            "request refused",
            metadata: [
                "listener": "\(environment.listener)", "route": "\(route)", "status": "\(refusal.status)",
                "reason": "\(refusal.code)", "detail": "\(refusal.detail)", "request.id": "\(id)",
                "client": "\(requestClient)",
            ]
        )
        var extraHeaders: [(String, String)] = []
        if refusal.status == 405 { extraHeaders.append(("allow", ProxyRouting.allowedMethods)) }
        writeLocalResponse(
            HTTPResponseStatus(statusCode: refusal.status), version: .http1_1, requestId: id, closeAfter: true,
            context: context, extraHeaders: extraHeaders, detail: refusal.code.description)
    }

    /// Answers a failed authentication (401/403 with its challenge) and counts it.
    func refuse(
        _ failure: AuthFailure, head: HTTPRequestHead, requestId: String, route: RouteTable.Entry, closeAfter: Bool,
        context: ChannelHandlerContext
    ) {
        EdgeMetrics.shared.authFailure(route: route.name, reason: "\(failure.code)")
        var headers: [(String, String)] = []
        if let challenge = failure.wwwAuthenticate { headers.append(("www-authenticate", challenge)) }
        replyLocally(
            HTTPResponseStatus(statusCode: failure.httpStatus), head: head, requestId: requestId, route: route,
            closeAfter: closeAfter, context: context, extraHeaders: headers, outcome: "auth refused: \(failure.code)")
    }

    func replyLocally(
        _ status: HTTPResponseStatus,
        head: HTTPRequestHead,
        requestId: String,
        route: RouteTable.Entry?,
        closeAfter: Bool,
        context: ChannelHandlerContext,
        server: String? = nil,
        extraHeaders: [(String, String)] = [],
        outcome: String? = nil,
        body: (text: String, contentType: String?)? = nil
    ) {
        let answer = machine.answering(closeAfter: closeAfter)
        let bytes = writeLocalResponse(
            status, version: head.version, requestId: requestId, closeAfter: answer.closeAfter, context: context,
            extraHeaders: extraHeaders, body: body)
        logLocalAnswer(
            head: head, route: route?.name ?? "-", status: status.code, requestId: requestId, server: server,
            bytesOut: bytes, outcome: outcome)
        if answer.closeAfter {
            return
        } else if answer.requestEnded {
            becameIdle(context: context)
        } else {
            resumeClientReads()
        }
    }

    @discardableResult
    func writeLocalResponse(
        _ status: HTTPResponseStatus,
        version: HTTPVersion,
        requestId: String,
        closeAfter: Bool,
        context: ChannelHandlerContext,
        extraHeaders: [(String, String)] = [],
        detail: String? = nil,
        body custom: (text: String, contentType: String?)? = nil
    ) -> Int {
        var body = context.channel.allocator.buffer(capacity: 64)
        var headers = HTTPHeaders()
        if let custom {
            body.writeString(custom.text)
            if let contentType = custom.contentType { headers.add(name: "content-type", value: contentType) }
        } else {
            body.writeString("\(status.code) \(status.reasonPhrase)")
            if let detail { body.writeString(": \(detail)") }
            body.writeString("\n")
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        headers.add(name: "x-request-id", value: requestId)
        if closeAfter { headers.add(name: "connection", value: "close") }
        headers.add(contentsOf: extraHeaders)
        let bytes = body.readableBytes
        var response = context.channel.allocator.buffer(capacity: 256 + bytes)
        response.writeResponseHead(HTTPResponseHead(version: version, status: status, headers: headers))
        response.writeBuffer(&body)
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(response), promise: done)
        if closeAfter {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        return bytes
    }
}
