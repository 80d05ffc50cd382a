import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PortcullisBus
import PortcullisConfig
import Testing

@testable import PortcullisEdge

/// Records what the admin handler publishes, or fails every publish like a Redis that is away.
final class RecordingPublisher: EnvelopePublisher {
    private let published = NIOLockedValueBox<[Envelope]>([])
    let failure: PublishError?

    init(failure: PublishError? = nil) {
        self.failure = failure
    }

    var envelopes: [Envelope] { published.withLockedValue { $0 } }

    func publish(_ envelopes: [Envelope], on eventLoop: EventLoop) -> EventLoopFuture<Int> {
        if let failure { return eventLoop.makeFailedFuture(failure) }
        published.withLockedValue { $0 += envelopes }
        return eventLoop.makeSucceededFuture(envelopes.count)
    }
}

/// The publish API through the admin handler on an `EmbeddedChannel`: statuses, headers
/// and JSON answers as a backend sees them.
@Suite struct AdminPublishHandlerTests {
    static let key = "0123456789abcdef0123456789abcdef"

    struct Answer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: String
    }

    private func configuration(publish: Bool = true, emitRoute: Bool = true, maxBodySize: Int = 1 << 20)
        -> Configuration
    {
        let location = SourceLocation(file: "main.yaml", line: 1, keyPath: "admin.publish")
        var configuration = Configuration()
        if publish {
            var settings = PublishSettings(keyFile: "/dev/null", key: Self.key, location: location)
            settings.maxBodySize = maxBodySize
            configuration.admin.publish = settings
        }
        var socket = SocketAction(app: "shared")
        socket.wireProtocol = .socketio
        socket.socketIO = SocketAction.SocketIO()
        if emitRoute {
            socket.emitEndpoints = SocketAction.EmitEndpoints(namespace: "/", location: location)
        }
        configuration.routes = [Route(name: "shared", match: RouteMatch(path: "/"), socket: socket, location: location)]
        return configuration
    }

    private func channel(
        _ configuration: Configuration, publisher: RecordingPublisher = RecordingPublisher(),
        peer: String = "127.0.0.1",
        tls: Bool = false
    ) throws -> EmbeddedChannel {
        let publishing = AdminHandler.Publishing(
            snapshots: SnapshotBox(try EdgeSnapshot(configuration: configuration)), publisher: publisher,
            overTLS: tls, logger: Logger(label: "test"))
        let channel = EmbeddedChannel(
            handler: AdminHandler(state: EdgeState(), reloader: nil, metrics: nil, publishing: publishing))
        let address = try SocketAddress(ipAddress: peer, port: 50_000)
        try channel.connect(to: address).wait()
        channel.remoteAddress = address
        return channel
    }

    private func send(
        _ channel: EmbeddedChannel, _ uri: String, method: HTTPMethod = .POST, body: String = "",
        authorization: String? = "Bearer \(key)", chunks: Int = 1
    ) throws -> Answer {
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: "authorization", value: authorization) }
        if chunks == 1 { headers.add(name: "content-length", value: "\(body.utf8.count)") }
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)))
        let bytes = Array(body.utf8)
        let size = max(1, (bytes.count + chunks - 1) / chunks)
        for start in stride(from: 0, to: bytes.count, by: size) where channel.isActive {
            try channel.writeInbound(
                HTTPServerRequestPart.body(ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)])))
        }
        if channel.isActive { try channel.writeInbound(HTTPServerRequestPart.end(nil)) }
        return try read(channel)
    }

    private func read(_ channel: EmbeddedChannel) throws -> Answer {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw Failure("no response head")
        }
        var body = ""
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            if case .body(.byteBuffer(let buffer)) = part { body += String(buffer: buffer) }
        }
        return Answer(status: head.status, headers: head.headers, body: body)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func publishAnswersWithTheCountAndHandsTheEnvelopesOn() throws {
        let publisher = RecordingPublisher()
        let channel = try channel(configuration(), publisher: publisher)
        let answer = try send(
            channel, "/publish", body: #"[{"to":"user","target":"42","event":"a"},{"to":"all","event":"b"}]"#)
        #expect(answer.status == .ok)
        #expect(answer.headers["content-type"] == ["application/json"])
        #expect(answer.body == #"{"published":2}"#)
        #expect(publisher.envelopes.map(\.event) == ["a", "b"])
        #expect(Set(publisher.envelopes.map(\.id)).count == 2)
    }

    @Test func emitEndpointsAnswerAsTheProductDoes() throws {
        let publisher = RecordingPublisher()
        let channel = try channel(configuration(), publisher: publisher)
        let one = try send(channel, "/emit/64abc/notification", body: #"{"title":"New Lead"}"#)
        #expect(one.status == .ok)
        #expect(one.body == #"{"success":true,"message":"SUCCESS"}"#)
        let many = try send(channel, "/emit/data_sync", body: #"{"userIds":"[\"a\",\"b\"]","data":{"n":1}}"#, chunks: 3)
        #expect(many.body == #"{"success":true,"message":"SUCCESS"}"#)
        #expect(publisher.envelopes.map(\.target) == [.user("64abc"), .user("a"), .user("b")])
        #expect(publisher.envelopes.map(\.app) == ["shared", "shared", "shared"])
        #expect(publisher.envelopes.map(\.namespace) == ["/", "/", "/"])
    }

    @Test func anyCableBroadcastsAnswer201() throws {
        let channel = try channel(configuration())
        let answer = try send(channel, "/_broadcast", body: #"{"stream":"chat:1","data":"{\"a\":1}"}"#)
        #expect(answer.status == .created)
    }

    @Test func aMissingOrWrongKeyIs401WithABearerChallenge() throws {
        let channel = try channel(configuration())
        let missing = try send(channel, "/publish", body: "{}", authorization: nil)
        #expect(missing.status == .unauthorized)
        #expect(missing.headers["www-authenticate"] == ["Bearer"])
        #expect(missing.body == #"{"error":"missing Authorization: Bearer <key>"}"#)
        let wrong = try send(channel, "/emit/u/e", body: "{}", authorization: "Bearer wrong")
        #expect(wrong.status == .unauthorized)
        #expect(wrong.headers["www-authenticate"] == [#"Bearer error="invalid_token""#])
    }

    @Test func plainHTTPFromAnotherHostIs403AndTLSFromThereIsServed() throws {
        let plain = try send(channel(configuration(), peer: "10.0.0.7"), "/publish", body: #"{"to":"all"}"#)
        #expect(plain.status == .forbidden)
        #expect(plain.body.contains("only allowed from loopback"))
        let overTLS = try send(
            channel(configuration(), peer: "10.0.0.7", tls: true), "/publish", body: #"{"to":"all"}"#)
        #expect(overTLS.status == .ok)
    }

    @Test func aBadBodyIs400AndNothingIsPublished() throws {
        let publisher = RecordingPublisher()
        let channel = try channel(configuration(), publisher: publisher)
        let answer = try send(channel, "/publish", body: #"[{"to":"all"},{"to":"user"}]"#)
        #expect(answer.status == .badRequest)
        #expect(answer.body == #"{"error":"messages[1].target: required with to user"}"#)
        #expect(publisher.envelopes.isEmpty)
    }

    @Test func withoutPublishingOrAnEmitRouteTheEndpointsAre404() throws {
        let off = try send(channel(configuration(publish: false)), "/publish", body: "{}")
        #expect(off.status == .notFound)
        #expect(off.body == #"{"error":"publishing is not enabled (admin.publish is not configured)"}"#)
        let noRoute = try send(channel(configuration(emitRoute: false)), "/emit/u/e", body: "{}")
        #expect(noRoute.status == .notFound)
        #expect(noRoute.body.contains("emit_endpoints"))
        let published = try send(channel(configuration(emitRoute: false)), "/publish", body: #"{"to":"all"}"#)
        #expect(published.status == .ok)
    }

    @Test func otherMethodsAre405AndOtherAdminPathsStillWork() throws {
        let channel = try channel(configuration())
        let get = try send(channel, "/publish", method: .GET)
        #expect(get.status == .methodNotAllowed)
        #expect(get.headers["allow"] == ["POST"])
        let health = try send(channel, "/healthz", method: .GET, authorization: nil)
        #expect(health.status == .ok && health.body == "ok\n")
    }

    @Test func aBodyOverTheLimitIs413AndClosesTheConnection() throws {
        let declared = try channel(configuration(maxBodySize: 1024))
        let big = String(repeating: " ", count: 1025) + "{}"
        let answer = try send(declared, "/publish", body: big)
        #expect(answer.status == .payloadTooLarge)
        #expect(answer.headers["connection"] == ["close"])
        #expect(!declared.isActive)
        let chunked = try channel(configuration(maxBodySize: 1024))
        let streamed = try send(chunked, "/publish", body: big, chunks: 4)
        #expect(streamed.status == .payloadTooLarge)
        #expect(!chunked.isActive)
    }

    @Test func aBusThatIsAwayIs503() throws {
        let publisher = RecordingPublisher(failure: PublishError(.unavailable, "the bus (Redis) is unreachable"))
        let answer = try send(channel(configuration(), publisher: publisher), "/publish", body: #"{"to":"all"}"#)
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.body == #"{"error":"the bus (Redis) is unreachable"}"#)
    }
}
