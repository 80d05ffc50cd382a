import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisBus

/// The publish API on the admin listener (`docs/publish.md`): the head decides whether a
/// request may publish (``PublishAccess``), the body is collected up to
/// `admin.publish.max_body_size`, ``PublishRequest`` turns it into envelopes, all checked
/// before any is written, and an ``EnvelopePublisher`` appends them to the bus.
///
/// Answers are JSON: `{"published": n}` (`/publish` 200, `/_broadcast` 201),
/// `{"success":true,"message":"SUCCESS"}` (`/emit`, 200), `{"error": "<reason>"}` for
/// every refusal.
extension AdminHandler {
    /// The request a head starts: ordinary admin paths, or a publish request admitted or
    /// refused.
    func admit(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Request {
        guard let recognised = PublishEndpoint.recognise(target: head.uri) else { return .admin(head) }
        body.clear()
        let label = (try? recognised.get())?.label ?? "emit"
        func refused(_ error: PublishError) -> Request {
            .refused(head, endpoint: label, error)
        }
        guard let publishing, let policy = publishing.snapshots.current.publishing else {
            return refused(PublishError(.notEnabled, "publishing is not enabled (admin.publish is not configured)"))
        }
        guard head.method == .POST else {
            return refused(PublishError(.methodNotAllowed, "use POST"))
        }
        if let error = PublishAccess.check(
            authorization: head.headers["authorization"], key: policy.key, overTLS: publishing.overTLS,
            peer: context.channel.remoteAddress)
        {
            return refused(error)
        }
        let endpoint: PublishEndpoint
        switch recognised {
        case .success(let found): endpoint = found
        case .failure(let error): return refused(error)
        }
        switch endpoint {
        case .emitToUser, .emitToUsers:
            guard policy.emitRoute != nil else {
                return refused(
                    PublishError(.notFound, "no socket route declares emit_endpoints, so /emit has nowhere to deliver"))
            }
        case .publish, .broadcast:
            break
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > policy.maxBodySize {
            refuse(Self.tooLarge(policy), endpoint: label, head: head, context: context, close: true)
            return .discarding
        }
        return .publish(head, endpoint, policy)
    }

    /// Adds a body part of an admitted publish request; past the limit, answers 413 and
    /// closes (a chunked body gives no length up front).
    func collect(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        guard case .publish(let head, let endpoint, let policy) = request else { return }
        guard body.readableBytes + buffer.readableBytes <= policy.maxBodySize else {
            request = .discarding
            body = ByteBuffer()
            refuse(Self.tooLarge(policy), endpoint: endpoint.label, head: head, context: context, close: true)
            return
        }
        body.writeBuffer(&buffer)
    }

    /// Reads the body into envelopes, publishes them and answers.
    func publish(
        _ endpoint: PublishEndpoint, policy: PublishPolicy, head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        let bytes = Array(body.readableBytesView)
        body = ByteBuffer()
        let reader = PublishRequest(makeID: Envelope.randomID, now: Int64(Date().timeIntervalSince1970 * 1000))
        let envelopes: [Envelope]
        do throws(PublishError) {
            switch endpoint {
            case .publish:
                envelopes = try reader.messages(bytes)
            case .broadcast:
                envelopes = try reader.broadcasts(bytes)
            case .emitToUser(let user, let event):
                envelopes = [try reader.emit(event: event, toUser: user, body: bytes, route: policy.emitRoute!)]
            case .emitToUsers(let event):
                envelopes = try reader.emit(event: event, body: bytes, route: policy.emitRoute!)
            }
        } catch {
            refuse(error, endpoint: endpoint.label, head: head, context: context)
            return
        }
        guard let publisher = publishing?.publisher else {
            refuse(
                PublishError(.unavailable, "the edge has no redis.url"), endpoint: endpoint.label, head: head,
                context: context)
            return
        }
        publisher.publish(envelopes, on: context.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let count):
                EdgeMetrics.shared.publishRequest(endpoint: endpoint.label, result: "published")
                EdgeMetrics.shared.published(endpoint: endpoint.label, count: count)
                let (status, answer) = Self.answer(endpoint, count: count)
                self.write(status, answer, version: head.version, context: context, contentType: Self.json)
            case .failure(let error):
                let refusal = error as? PublishError ?? PublishError(.unavailable, "\(error)")
                self.refuse(refusal, endpoint: endpoint.label, head: head, context: context)
            }
        }
    }

    /// Answers `error` as `{"error": …}` with its status (and the headers 401 and 405 call
    /// for), counts and logs it.
    func refuse(
        _ error: PublishError, endpoint: String, head: HTTPRequestHead, context: ChannelHandlerContext,
        close: Bool = false
    ) {
        EdgeMetrics.shared.publishRequest(endpoint: endpoint, result: error.code.description)
        var headers: [(String, String)] = []
        switch error.code {
        case .unauthorized:
            headers.append(("www-authenticate", PublishAccess.challenge(authorization: head.headers["authorization"])))
        case .methodNotAllowed:
            headers.append(("allow", "POST"))
        default:
            break
        }
        if let logger = publishing?.logger {
            let level: Logger.Level = error.code == .unavailable ? .warning : .info
            logger.log(
                level: level, "publish request refused",
                metadata: [
                    "publish.endpoint": "\(endpoint)", "publish.result": "\(error.code)",
                    "error": "\(error.message)",
                    "client": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
                ])
        }
        let answer = #"{"error":\#(JSONStringLiteral.quoted(error.message))}"#
        write(
            error.code.status, answer, version: head.version, context: context, contentType: Self.json,
            headers: headers, close: close)
    }

    private static let json = "application/json"

    private static func tooLarge(_ policy: PublishPolicy) -> PublishError {
        PublishError(.tooLarge, "body over admin.publish.max_body_size (\(policy.maxBodySize) bytes)")
    }

    /// The status and body of a success, in each endpoint's own format.
    static func answer(_ endpoint: PublishEndpoint, count: Int) -> (HTTPResponseStatus, String) {
        switch endpoint {
        case .publish: (.ok, #"{"published":\#(count)}"#)
        case .broadcast: (.created, #"{"published":\#(count)}"#)
        case .emitToUser, .emitToUsers: (.ok, #"{"success":true,"message":"SUCCESS"}"#)
        }
    }
}
