/// Portcullis's raw WebSocket protocol as a ``SocketSession``: the message mapping of
/// ``RawProtocolSession`` (json or opaque mode), the in-band `$refresh`, and the raw
/// answers to the edge's decisions (close codes, `error` events).
///
/// Raw has no protocol heartbeat or handshake of its own: WebSocket pings (run by the
/// transport) keep it alive, and there is nothing to send at open.
public struct RawSession: SocketSession {
    public let protocolSession: RawProtocolSession

    public init(mode: RawProtocolSession.Mode) {
        self.protocolSession = RawProtocolSession(mode: mode)
    }

    public var mode: RawProtocolSession.Mode { protocolSession.mode }

    public func start(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        [.publish(SocketInbound(kind: .open))]
    }

    public func receivedText(_ text: String, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        self.actions(for: protocolSession.receivedText(text))
    }

    public func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [SocketSessionAction] {
        self.actions(for: protocolSession.receivedBinary(bytes))
    }

    public func tick(now: ContinuousClock.Instant) -> [SocketSessionAction] { [] }

    public var nextDeadline: ContinuousClock.Instant? { nil }

    /// Refresh answers: `$refreshed` with the new expiry, or an `error` event (json mode;
    /// opaque mode has no in-band replies and never asks for a refresh).
    public func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, now: ContinuousClock.Instant
    ) -> [SocketSessionAction] {
        switch outcome {
        case .accepted(let expiresAt):
            return [.send(.text(RawProtocolSession.refreshedEvent(expiresAt: expiresAt)))]
        case .notRequired:
            return self.refusal(code: "refresh_unsupported", message: "this route does not authenticate with tokens")
        case .refused(let code, let message):
            return self.refusal(code: "refresh_refused", message: "\(code): \(message)")
        }
    }

    /// json mode answers with an `unavailable` error event; opaque mode, which has no
    /// in-band errors, closes with 1013 when the bus buffer is full.
    public func publishFailed(_ inbound: SocketInbound, busUnavailable: Bool) -> [SocketSessionAction] {
        guard inbound.kind == .message else { return [] }
        switch mode {
        case .json:
            return self.refusal(
                code: "unavailable",
                message: busUnavailable ? "message bus unavailable; try again later" : "message not delivered")
        case .opaque:
            return busUnavailable ? [.close(.busUnavailable)] : []
        }
    }

    public func rateLimited() -> [SocketSessionAction] {
        self.refusal(code: "rate_limited", message: "too many messages; slow down")
    }

    /// Raw's notice is the close frame itself (4001 for expiry, 1001 for a drain, …).
    public func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        [.close(cause)]
    }

    /// Raw has no namespaces: a namespace-scoped disconnect closes the connection.
    public func control(_ control: SocketControl, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        switch control {
        case .confirm, .reject:
            return []
        case .disconnect(_, let reason):
            return [.close(.disconnected(reason: reason))]
        }
    }

    public func encodings(for namespace: String?) -> [SocketEncoding] {
        [SocketEncoding(format: mode == .json ? .rawJSON : .rawOpaque)]
    }

    private func actions(for action: RawProtocolSession.Action) -> [SocketSessionAction] {
        switch action {
        case .publish(let event, let data, let ack):
            return [.publish(SocketInbound(kind: .message, event: event, data: .json(data), ack: ack))]
        case .publishText(let text):
            return [.publish(SocketInbound(kind: .message, data: .text(text)))]
        case .publishBinary(let bytes):
            return [.publish(SocketInbound(kind: .message, data: .binary(bytes)))]
        case .send(let outbound):
            return [.send(SocketOutbound(outbound))]
        case .refresh(let token):
            return [.verify(SocketVerification(token: token, purpose: .refresh(namespace: nil, ack: nil)))]
        }
    }

    private func refusal(code: String, message: String) -> [SocketSessionAction] {
        guard mode == .json else { return [] }
        return [.send(.text(RawProtocolSession.errorEvent(code: code, message: message)))]
    }
}

extension SocketOutbound {
    init(_ outbound: RawProtocolSession.Outbound) {
        switch outbound {
        case .text(let text): self = .text(text)
        case .binary(let bytes): self = .binary(bytes)
        }
    }
}
