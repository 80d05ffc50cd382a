import PortcullisWire

/// One message a recorded client sends: text (an Engine.IO packet as typed) or bytes.
enum ClientMessage: Hashable, ExpressibleByStringLiteral {
    case text(String)
    case binary([UInt8])

    init(stringLiteral value: String) {
        self = .text(value)
    }
}

/// A Socket.IO session driven through a recorded sequence, with a clock the test moves.
struct SocketIOSessionDriver {
    let origin = ContinuousClock.now
    var session: SocketIOSession

    init(_ configuration: SocketIOSession.Configuration = SocketIOSessionDriver.configuration()) {
        self.session = SocketIOSession(configuration: configuration)
    }

    /// The configuration of most tests: a WebSocket session on a public route.
    static func configuration(
        allowedNamespaces: [String] = ["/", "/admin", "/custom"],
        hasHandshakeIdentity: Bool = false,
        readsAuthToken: Bool = false,
        connectTimeout: Duration = .seconds(45),
        maxPayload: Int = 1_000_000,
        maxAttachments: Int = 10,
        maxPacketSize: Int = 1_000_000
    ) -> SocketIOSession.Configuration {
        SocketIOSession.Configuration(
            engineSessionID: "Xy7kP2qQ9rT1uV3wA0bC", socketID: "edge1.c9", maxPayload: maxPayload,
            connectTimeout: connectTimeout, allowedNamespaces: allowedNamespaces,
            hasHandshakeIdentity: hasHandshakeIdentity, readsAuthToken: readsAuthToken,
            handshakeQuery: [.init(name: "room", value: "lobby")], refreshEvent: "verify_user",
            expiryNoticeEvent: "loggedOut", maxAttachments: maxAttachments, maxPacketSize: maxPacketSize)
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        self.origin.advanced(by: .milliseconds(Int64(seconds * 1000)))
    }

    /// Starts the session at time 0 and returns what it sent.
    @discardableResult
    mutating func start() -> [SocketSessionAction] {
        self.session.start(now: self.at(0))
    }

    /// Feeds the messages in order at time `seconds` and returns every action.
    @discardableResult
    mutating func receive(_ messages: ClientMessage..., at seconds: Double = 1) -> [SocketSessionAction] {
        messages.flatMap { message in
            switch message {
            case .text(let text): self.session.receivedText(text, now: self.at(seconds))
            case .binary(let bytes): self.session.receivedBinary(bytes, now: self.at(seconds))
            }
        }
    }

    mutating func tick(at seconds: Double) -> [SocketSessionAction] {
        self.session.tick(now: self.at(seconds))
    }

    mutating func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification
    ) -> [SocketSessionAction] {
        self.session.verified(outcome, for: request, now: self.at(1))
    }

    mutating func end(_ cause: SocketCloseCause) -> [SocketSessionAction] {
        self.session.end(cause, now: self.at(1))
    }

    mutating func control(_ control: SocketControl) -> [SocketSessionAction] {
        self.session.control(control, now: self.at(1))
    }

    var nextDeadline: ContinuousClock.Instant? {
        self.session.nextDeadline
    }
}

extension SocketSessionAction {
    /// `.send(.text(text))`.
    static func sent(_ text: String) -> SocketSessionAction {
        .send(.text(text))
    }

    /// What joining `namespace` does: the CONNECT reply carries the connection id.
    static func joined(_ namespace: String, auth: String = "null") -> [SocketSessionAction] {
        let prefix = namespace == "/" ? "40" : "40\(namespace),"
        return [
            .sent(prefix + #"{"sid":"edge1.c9"}"#),
            .enterNamespace(namespace),
            .publish(
                SocketInbound(
                    kind: .open, namespace: namespace, data: .json(#"{"query":{"room":"lobby"},"auth":"# + auth + "}"))),
        ]
    }

    /// What leaving `namespace` for `reason` does.
    static func left(_ namespace: String, reason: String) -> [SocketSessionAction] {
        [.leaveNamespace(namespace), .publish(SocketInbound(kind: .close, namespace: namespace, reason: reason))]
    }

    /// The cause of a `.close`, nil for other actions.
    var closeCause: SocketCloseCause? {
        if case .close(let cause) = self { return cause }
        return nil
    }
}
