/// One Engine.IO 4 session carrying Socket.IO v5, as a pure ``SocketSession``.
///
/// The edge makes one per Engine.IO session, calls ``start(now:)``, then feeds it every
/// client message and runs the actions. The transport is the edge's: a WebSocket, or
/// long-polling and its upgrade, whose probe (`2probe`, `3probe`, `5`, `6`) the edge
/// answers itself. Each ``SocketOutbound`` returned is exactly one Engine.IO packet —
/// `.text("4…")` for a Socket.IO packet, `.text("2")` for a ping, `.binary` for an
/// attachment — which the transport frames (one WebSocket message, or one record of a
/// polling body with binary as `b…`).
///
/// Invariants:
/// - Client input is checked as the reference server checks it, and what it closes on
///   closes here: bytes that are no packet, a client ping, a broken attachment sequence
///   or its bounds, a packet for a namespace not joined, a second CONNECT for one, a
///   CONNECT_ERROR from the client. An unknown namespace is only refused (`44`).
/// - A namespace is joined once its CONNECT is answered `40…{"sid":…}`: then
///   ``SocketSessionAction/enterNamespace(_:)`` and an `open` publish. Every namespace
///   left — by the client, a handler, ``end(_:now:)`` or a close the session decides — is
///   left with ``SocketSessionAction/leaveNamespace(_:)`` and a `close` publish, before
///   any ``SocketSessionAction/close(_:)``; the edge only publishes `close` for
///   namespaces still entered when the transport dies under the session.
/// - CONNECT asks the edge to verify a token only when the route reads tokens from
///   `auth` and either the CONNECT carries one or the connection holds no identity yet
///   (neither from the handshake nor from an earlier accepted CONNECT); otherwise the
///   namespace is joined at once, with no round trip. While the answer is out, the
///   namespace is neither joined nor free: another CONNECT or an event for it closes the
///   connection, as in the reference server.
/// - After a close action nothing is done any more and ``nextDeadline`` is nil.
public struct SocketIOSession: SocketSession {
    private enum Phase: Hashable, Sendable {
        case notStarted
        case open
        case closed
    }

    /// Where one namespace the client asked for stands.
    enum MembershipState: Hashable, Sendable {
        /// CONNECT sent, the edge's verification of it is out.
        case verifying(SocketVerification)
        /// Joined; `socketID` was sent in the CONNECT reply.
        case joined(socketID: String)
    }

    struct Membership: Hashable, Sendable {
        var namespace: SocketIONamespace
        var state: MembershipState
    }

    public let configuration: Configuration
    private var phase = Phase.notStarted
    private var heartbeat: EngineIOHeartbeat<ContinuousClock.Instant>
    private var assembler: SocketIOBinaryAssembler
    // Internal rather than private: the +Verification extension joins namespaces.
    /// Armed from the start until the first namespace is joined.
    var connectDeadline: ContinuousClock.Instant?
    /// In the order the client asked, so goodbyes go out in a stable order.
    var memberships: [Membership] = []
    /// A verified identity: from the handshake, or an accepted token since.
    var holdsIdentity: Bool
    /// The start of every `open` data: `{"query":{…},"auth":`.
    let openDataPrefix: String

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.heartbeat = EngineIOHeartbeat(
            pingInterval: configuration.pingInterval, pingTimeout: configuration.pingTimeout)
        self.assembler = SocketIOBinaryAssembler(
            configuration: .init(
                maxAttachments: configuration.maxAttachments, maxPacketSize: configuration.maxPacketSize))
        self.holdsIdentity = configuration.hasHandshakeIdentity
        self.openDataPrefix = "{\"query\":" + configuration.handshakeQueryJSON + ",\"auth\":"
    }

    // MARK: SocketSession

    public mutating func start(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase == .notStarted else { return [] }
        self.phase = .open
        self.heartbeat.start(now: now)
        self.connectDeadline = now.advanced(by: self.configuration.connectTimeout)
        let open = EngineIOOpenPacket(
            sid: self.configuration.engineSessionID, upgrades: self.configuration.upgrades,
            pingInterval: self.configuration.pingInterval, pingTimeout: self.configuration.pingTimeout,
            maxPayload: self.configuration.maxPayload)
        return [.send(Self.outbound(open.packet))]
    }

    public mutating func receivedText(_ text: String, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase == .open else { return [] }
        let packet: EngineIOPacket
        do {
            packet = try EngineIOPacket.decode(text: text, maxPayload: self.configuration.maxPayload)
        } catch {
            return self.close(.engineIOParseError(error))
        }
        switch packet.type {
        case .message:
            switch packet.payload {
            case .text(let message): return self.assembled(self.assembler.receivedText(message))
            case .binary(let bytes): return self.assembled(self.assembler.receivedAttachment(bytes))
            }
        case .pong:
            self.heartbeat.pongReceived(now: now)
            return []
        case .ping:
            return self.close(.engineIOHeartbeatDirection)
        case .close:
            return self.close(.clientClosed(code: .normalClosure))
        case .open, .upgrade, .noop:
            // The reference server ignores these outside the upgrade, which the edge runs.
            return []
        }
    }

    public mutating func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase == .open else { return [] }
        do {
            _ = try EngineIOPacket.decode(binary: bytes, maxPayload: self.configuration.maxPayload)
        } catch {
            return self.close(.engineIOParseError(error))
        }
        return self.assembled(self.assembler.receivedAttachment(bytes))
    }

    public mutating func tick(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase == .open else { return [] }
        if let deadline = self.connectDeadline, now >= deadline {
            return self.close(.socketIOConnectTimeout)
        }
        switch self.heartbeat.tick(now: now) {
        case .none: return []
        case .sendPing: return [.send(Self.outbound(EngineIOPacket(.ping)))]
        case .timedOut: return self.close(.engineIOPingTimeout)
        }
    }

    public var nextDeadline: ContinuousClock.Instant? {
        guard self.phase == .open else { return nil }
        switch (self.heartbeat.nextDeadline, self.connectDeadline) {
        case (let heartbeat?, let connect?): return min(heartbeat, connect)
        case (let deadline?, nil), (nil, let deadline?): return deadline
        case (nil, nil): return nil
        }
    }

    public mutating func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, now: ContinuousClock.Instant
    ) -> [SocketSessionAction] {
        guard self.phase == .open else { return [] }
        switch request.purpose {
        case .connect(_, let auth):
            return self.connectVerified(outcome, for: request, auth: auth)
        case .refresh(let name, let ack):
            return self.refreshVerified(outcome, namespace: name, ack: ack)
        }
    }

    /// Socket.IO has no in-band error, so only a message that asked for an ack learns of
    /// the failure: its ack is answered `[{"error":"unavailable"}]` (Redis away) or
    /// `[{"error":"refused"}]` (the entry was refused). Anything else is dropped silently,
    /// as a JS server drops what no handler listens to.
    public mutating func publishFailed(_ inbound: SocketInbound, busUnavailable: Bool) -> [SocketSessionAction] {
        guard self.phase == .open, inbound.kind == .message, let ack = inbound.ack,
            (0...SocketIOPacket.maxAckID).contains(ack),
            let name = inbound.namespace, let namespace = SocketIONamespace(name), self.isJoined(namespace)
        else { return [] }
        let reply = busUnavailable ? #"{"error":"unavailable"}"# : #"{"error":"refused"}"#
        return [.send(Self.outbound(.ack(id: ack, arguments: [reply], namespace: namespace)))]
    }

    /// Each joined namespace gets the protocol's goodbye, then is left; then the close.
    /// - When the credentials ended (expiry, revocation, an ended session) and
    ///   ``Configuration/expiryNoticeEvent`` is set: `42<ns,>["loggedOut",{"reason":…}]`
    ///   first, the reason from ``SocketCloseCause/noticeReason``.
    /// - When the credentials ended or a handler disconnected the connection: DISCONNECT
    ///   `41<ns,>`, which makes socket.io-client give up (`io server disconnect`) instead
    ///   of reconnecting with what will not work.
    /// - For anything else, a drain above all, no DISCONNECT: the client sees the
    ///   transport close and reconnects, to another edge.
    public mutating func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase != .closed else { return [] }
        let notice = cause.endsCredentials ? self.configuration.expiryNoticeEvent : nil
        let disconnects = cause.endsCredentials || cause.isDisconnected
        var actions: [SocketSessionAction] = []
        for membership in self.memberships {
            guard case .joined = membership.state else { continue }
            if let notice {
                var reason = "{\"reason\":"
                JSONString.encode(cause.noticeReason ?? cause.label, into: &reason)
                reason += "}"
                actions.append(
                    .send(Self.outbound(.event(notice, arguments: [reason], namespace: membership.namespace))))
            }
            if disconnects {
                actions.append(.send(Self.outbound(.disconnect(namespace: membership.namespace))))
            }
        }
        return actions + self.close(cause)
    }

    public mutating func control(_ control: SocketControl, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard self.phase == .open else { return [] }
        switch control {
        case .confirm:
            // Socket.IO namespaces are confirmed by the edge when the CONNECT is answered.
            return []
        case .disconnect(let name, let reason):
            guard let namespace = SocketIONamespace(name), self.isJoined(namespace) else { return [] }
            return [.send(Self.outbound(.disconnect(namespace: namespace)))]
                + self.leave(namespace, reason: SocketCloseCause.disconnected(reason: reason).description)
        case .reject(let name, let reason):
            guard let namespace = SocketIONamespace(name),
                let index = self.memberships.firstIndex(where: { $0.namespace == namespace })
            else { return [] }
            let refusal: [SocketSessionAction] = [
                .send(Self.outbound(.connectError(namespace: namespace, message: reason ?? "Not authorized")))
            ]
            guard case .joined = self.memberships[index].state else {
                // Refused before it was joined: the pending verification's answer will be stale.
                self.memberships.remove(at: index)
                return refusal
            }
            return refusal + self.leave(namespace, reason: reason.map { "rejected: \($0)" } ?? "rejected")
        }
    }

    /// Rooms joined without `ns` are the main namespace's, as `ns` defaults to `/` on the bus.
    public var defaultNamespace: String? { SocketIONamespace.main.name }

    /// The one Socket.IO encoding of `namespace` (the bus default `/` when nil) when it is
    /// joined; nothing otherwise, also while its CONNECT awaits verification.
    public func encodings(for namespace: String?) -> [SocketEncoding] {
        let name = namespace ?? SocketIONamespace.main.name
        guard let namespace = SocketIONamespace(name), self.isJoined(namespace) else { return [] }
        return [SocketEncoding(format: .socketIO, namespace: name)]
    }

    // MARK: Client packets

    private mutating func assembled(_ action: SocketIOBinaryAssembler.Action) -> [SocketSessionAction] {
        switch action {
        case .none: return []
        case .fail(let error): return self.close(.socketIOParseError(error))
        case .packet(let packet): return self.received(packet)
        }
    }

    private mutating func received(_ packet: SocketIOPacket) -> [SocketSessionAction] {
        let namespace = packet.namespace
        let state = self.memberships.first { $0.namespace == namespace }?.state
        switch (packet.type, state) {
        case (.connect, nil):
            return self.connectRequested(namespace, auth: packet.payload.map(String.init))
        case (.disconnect, .joined?):
            return self.leave(namespace, reason: "client namespace disconnect")
        case (.event, .joined?), (.binaryEvent, .joined?):
            if let refreshEvent = self.configuration.refreshEvent, packet.eventName == refreshEvent {
                return self.refreshRequested(packet)
            }
            return [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: namespace.name, event: packet.eventName,
                        data: .json(Self.argumentList(packet)), ack: packet.ackID, arguments: true,
                        attachments: packet.attachments))
            ]
        case (.ack, .joined?), (.binaryAck, .joined?):
            return [
                .publish(
                    SocketInbound(
                        kind: .ack, namespace: namespace.name, data: .json(Self.argumentList(packet)),
                        ack: packet.ackID, arguments: true, attachments: packet.attachments))
            ]
        case (.connect, _), (.disconnect, _), (.event, _), (.binaryEvent, _), (.ack, _), (.binaryAck, _),
            (.connectError, _):
            return self.close(.socketIOInvalidState)
        }
    }

    // MARK: Helpers

    func isJoined(_ namespace: SocketIONamespace) -> Bool {
        self.memberships.contains { $0.namespace == namespace && Self.isJoined($0.state) }
    }

    private static func isJoined(_ state: MembershipState) -> Bool {
        if case .joined = state { return true }
        return false
    }

    /// Leaves a joined namespace: the hub index, then the handlers.
    mutating func leave(_ namespace: SocketIONamespace, reason: String) -> [SocketSessionAction] {
        self.memberships.removeAll { $0.namespace == namespace }
        return [
            .leaveNamespace(namespace.name),
            .publish(SocketInbound(kind: .close, namespace: namespace.name, reason: reason)),
        ]
    }

    /// Leaves every joined namespace and closes; the session does nothing more.
    private mutating func close(_ cause: SocketCloseCause) -> [SocketSessionAction] {
        var actions: [SocketSessionAction] = []
        for membership in self.memberships where Self.isJoined(membership.state) {
            actions += self.leave(membership.namespace, reason: cause.description)
        }
        self.memberships = []
        self.phase = .closed
        self.heartbeat.stop()
        self.connectDeadline = nil
        return actions + [.close(cause)]
    }

    /// `["name",a,b]` → `[a,b]`; `[a,b]` → `[a,b]`: the arguments, each exactly as sent.
    private static func argumentList(_ packet: SocketIOPacket) -> String {
        "[" + packet.arguments.joined(separator: ",") + "]"
    }

    static func outbound(_ packet: EngineIOPacket) -> SocketOutbound {
        switch packet.webSocketFrame {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }

    static func outbound(_ packet: SocketIOPacket) -> SocketOutbound {
        self.outbound(.message(packet.encoded))
    }
}
