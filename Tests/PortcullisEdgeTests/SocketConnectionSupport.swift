import Logging
import NIOCore
import NIOEmbedded
import PortcullisAuth
import PortcullisBus
import PortcullisConfig
import PortcullisWire

@testable import PortcullisEdge

/// What a scripted session answers and what happened to it. Shared by the session value
/// (which the connection owns and mutates) and the test, which reads it.
final class SessionScript: @unchecked Sendable {
    /// One call the connection made on the session.
    enum Event: Hashable {
        case start
        case text(String)
        case binary([UInt8])
        case tick
        case verified(SocketVerificationOutcome, SocketVerification)
        case publishFailed(SocketInbound, busUnavailable: Bool)
        case rateLimited
        case end(SocketCloseCause)
        case control(SocketControl)
    }

    var events: [Event] = []
    /// Calls of ``SocketSession/encodings(for:)``, with the namespace asked for.
    var encodingRequests: [String?] = []

    var onStart: [SocketSessionAction] = []
    /// Answers to client texts; a text not listed answers nothing.
    var replies: [String: [SocketSessionAction]] = [:]
    /// The answer to a verification outcome.
    var onVerified: (SocketVerificationOutcome, SocketVerification) -> [SocketSessionAction] = { _, _ in [] }
    var onPublishFailed: [SocketSessionAction] = []
    var onRateLimited: [SocketSessionAction] = [.send(.text("slow down"))]
    /// The protocol's goodbye: a notice naming the cause, then the close.
    var onEnd: (SocketCloseCause) -> [SocketSessionAction] = { cause in
        [.send(.text("bye \(cause.label)")), .close(cause)]
    }
    var onControl: (SocketControl) -> [SocketSessionAction] = { _ in [] }

    /// The causes ``SocketSession/end(_:now:)`` was called with.
    var endCauses: [SocketCloseCause] {
        events.compactMap { if case .end(let cause) = $0 { cause } else { nil } }
    }

    var controls: [SocketControl] {
        events.compactMap { if case .control(let control) = $0 { control } else { nil } }
    }

    var outcomes: [SocketVerificationOutcome] {
        events.compactMap { if case .verified(let outcome, _) = $0 { outcome } else { nil } }
    }
}

/// A protocol machine the test scripts (``SessionScript``): it records every call and
/// answers with the scripted actions. It keeps the namespaces it entered through its own
/// actions (`/` from the start), and asks for one Socket.IO encoding per namespace, so
/// fan-out tests see real bytes per namespace.
struct ScriptedSession: SocketSession {
    let script: SessionScript
    private(set) var namespaces: Set<String>

    init(_ script: SessionScript, namespaces: Set<String> = ["/"]) {
        self.script = script
        self.namespaces = namespaces
    }

    private mutating func answer(_ event: SessionScript.Event, _ actions: [SocketSessionAction])
        -> [SocketSessionAction]
    {
        script.events.append(event)
        for action in actions {
            switch action {
            case .enterNamespace(let namespace): namespaces.insert(namespace)
            case .leaveNamespace(let namespace): namespaces.remove(namespace)
            default: break
            }
        }
        return actions
    }

    mutating func start(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.start, script.onStart)
    }

    mutating func receivedText(_ text: String, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.text(text), script.replies[text] ?? [])
    }

    mutating func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.binary(bytes), [])
    }

    mutating func tick(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.tick, [])
    }

    var nextDeadline: ContinuousClock.Instant? { nil }

    mutating func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, now: ContinuousClock.Instant
    ) -> [SocketSessionAction] {
        answer(.verified(outcome, request), script.onVerified(outcome, request))
    }

    mutating func publishFailed(_ inbound: SocketInbound, busUnavailable: Bool) -> [SocketSessionAction] {
        answer(.publishFailed(inbound, busUnavailable: busUnavailable), script.onPublishFailed)
    }

    mutating func rateLimited() -> [SocketSessionAction] {
        answer(.rateLimited, script.onRateLimited)
    }

    mutating func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.end(cause), script.onEnd(cause))
    }

    mutating func control(_ control: SocketControl, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        answer(.control(control), script.onControl(control))
    }

    /// Like Socket.IO's: rooms joined without `ns` are `/`'s.
    var defaultNamespace: String? { "/" }

    func encodings(for namespace: String?) -> [SocketEncoding] {
        script.encodingRequests.append(namespace)
        let namespace = namespace ?? "/"
        return namespaces.contains(namespace) ? [SocketEncoding(format: .socketIO, namespace: namespace)] : []
    }
}

/// A transport that records what the connection writes. Messages reach ``sent`` (what the
/// client would receive) only when flushed; pre-encoded WebSocket frames are decoded back
/// to messages, and their buffers kept in ``frames``.
final class RecordingTransport: SocketTransport {
    let kind: SocketTransportKind
    private var pending: [SocketOutbound] = []
    private(set) var sent: [SocketOutbound] = []
    private(set) var frames: [ByteBuffer] = []
    private(set) var packetBatches: [[SocketOutbound]] = []
    private(set) var closes: [SocketCloseCause] = []
    private(set) var readsPaused = false
    var isClosing = false

    init(kind: SocketTransportKind = .webSocket) {
        self.kind = kind
    }

    /// The text messages the client received.
    var texts: [String] {
        sent.compactMap { if case .text(let text) = $0 { text } else { nil } }
    }

    func write(_ outbound: SocketOutbound) {
        guard !isClosing else { return }
        pending.append(outbound)
    }

    func write(encoded: EncodedMessages) -> Bool {
        guard !isClosing else { return false }
        switch encoded {
        case .webSocket(let buffer):
            frames.append(buffer)
            pending += Self.decodeFrames(buffer)
        case .packets(let packets):
            packetBatches.append(packets)
            pending += packets
        }
        return true
    }

    func flush() {
        sent += pending
        pending = []
    }

    func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        closes.append(cause)
        isClosing = true
    }

    func tick(now: ContinuousClock.Instant) {}

    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        readsPaused = false
    }

    /// Unmasked server frames back to messages.
    private static func decodeFrames(_ buffer: ByteBuffer) -> [SocketOutbound] {
        var buffer = buffer
        var messages: [SocketOutbound] = []
        while let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self) {
            var length = Int(second & 0x7F)
            if length == 126 { length = Int(buffer.readInteger(as: UInt16.self) ?? 0) }
            if length == 127 { length = Int(buffer.readInteger(as: UInt64.self) ?? 0) }
            let payload = buffer.readBytes(length: length) ?? []
            messages.append(first & 0x0F == 0x2 ? .binary(payload) : .text(String(decoding: payload, as: UTF8.self)))
        }
        return messages
    }
}

/// One event loop's hub on an `EmbeddedEventLoop`, appending to a recording bus, and the
/// connections a test opens on it.
struct SocketHubHarness {
    let loop = EmbeddedEventLoop()
    let bus: SocketHandlerTests.RecordingBus
    let hub: SocketHub

    init() throws {
        bus = SocketHandlerTests.RecordingBus(loop: loop)
        hub = try SocketHub(
            eventLoop: loop, edgeID: "edge-t", names: .standard, redis: bus, localPrefix: "h0-",
            logger: Logger(label: "test"))
    }

    /// A started connection on a fresh recording transport.
    func open(
        _ script: SessionScript = SessionScript(), namespaces: Set<String> = ["/"],
        identity: SocketConnection.Identity = .init(user: "u1", claims: #"{"sub":"u1"}"#),
        kind: SocketTransportKind = .webSocket, app: String = "chat", now: ContinuousClock.Instant = .now,
        verifier: SocketConnection.Verifier? = nil, settings configure: (inout SocketAction) -> Void = { _ in }
    ) -> (connection: SocketConnection, transport: RecordingTransport) {
        var settings = SocketAction(app: app)
        settings.rateLimit = nil
        configure(&settings)
        let connection = SocketConnection(
            id: hub.makeConnectionID(), routeName: "chat", settings: settings,
            session: ScriptedSession(script, namespaces: namespaces), identity: identity, hub: hub,
            verifier: verifier)
        let transport = RecordingTransport(kind: kind)
        connection.transport = transport
        connection.start(now: now)
        return (connection, transport)
    }

    /// Hands outbound envelopes to the hub as the bus reader does.
    func deliver(_ envelopes: Envelope...) {
        hub.deliver(envelopes.map(OutboundDelivery.init))
    }

    /// The envelopes appended so far.
    func envelopes() throws -> [Envelope] {
        try bus.envelopes()
    }
}

/// A verifier that knows a few tokens; any other is refused as expired.
func tokenVerifier(
    on loop: EventLoop, _ tokens: [String: PortcullisAuth.Identity]
) -> SocketConnection.Verifier {
    { token in
        if let identity = tokens[token] {
            return loop.makeSucceededFuture(.success(identity))
        }
        return loop.makeSucceededFuture(.failure(AuthFailure(.expired, "token expired")))
    }
}
