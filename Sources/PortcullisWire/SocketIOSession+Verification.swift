/// Joining namespaces and refreshing credentials: the two places the session waits for
/// the edge's verdict on a token.
extension SocketIOSession {
    /// The `reason` of a refresh refused because its first argument carried no token (the
    /// route guard's code for a missing credential).
    static let missingTokenCode = "missing_token"

    // MARK: CONNECT

    /// CONNECT for a namespace the client is not in.
    mutating func connectRequested(_ namespace: SocketIONamespace, auth: String?) -> [SocketSessionAction] {
        guard self.configuration.allows(namespace) else {
            return [.send(Self.outbound(.connectError(namespace: namespace, message: "Invalid namespace")))]
        }
        var token: String?
        if self.configuration.readsAuthToken, let auth {
            switch Self.stringMember(self.configuration.authTokenField, of: auth) {
            case .absent:
                break
            case .present(let value):
                token = value
            case .ambiguous:
                // Two token members: refuse rather than guess which one a handler would read.
                return [.send(Self.outbound(Self.refusal(namespace, code: "malformed", message: "malformed token")))]
            }
        }
        guard self.configuration.readsAuthToken, token != nil || !self.holdsIdentity else {
            return self.join(namespace, auth: auth)
        }
        let request = SocketVerification(token: token, purpose: .connect(namespace: namespace.name, auth: auth))
        self.memberships.append(Membership(namespace: namespace, state: .verifying(request)))
        return [.verify(request)]
    }

    /// The edge's answer to a CONNECT's verification; stale answers (the namespace was
    /// refused meanwhile, or asked for again) change nothing.
    mutating func connectVerified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, auth: String?
    ) -> [SocketSessionAction] {
        guard let index = self.memberships.firstIndex(where: { $0.state == .verifying(request) }) else { return [] }
        let namespace = self.memberships[index].namespace
        switch outcome {
        case .accepted:
            self.holdsIdentity = true
            return self.join(namespace, auth: auth)
        case .notRequired:
            return self.join(namespace, auth: auth)
        case .refused(let code, let message):
            self.memberships.remove(at: index)
            return [.send(Self.outbound(Self.refusal(namespace, code: code, message: message)))]
        }
    }

    /// Joins: the CONNECT reply with the socket id (the connection's), the hub index, then
    /// the handlers' `open` with the handshake query and the CONNECT `auth` (null when there
    /// was none).
    private mutating func join(_ namespace: SocketIONamespace, auth: String?) -> [SocketSessionAction] {
        let socketID = self.configuration.socketID
        let membership = Membership(namespace: namespace, state: .joined(socketID: socketID))
        if let index = self.memberships.firstIndex(where: { $0.namespace == namespace }) {
            self.memberships[index] = membership
        } else {
            self.memberships.append(membership)
        }
        self.connectDeadline = nil
        var reply = "{\"sid\":"
        JSONString.encode(socketID, into: &reply)
        reply += "}"
        return [
            .send(Self.outbound(.connect(namespace: namespace, payload: reply))),
            .enterNamespace(namespace.name),
            .publish(
                SocketInbound(
                    kind: .open, namespace: namespace.name, data: .json(self.openDataPrefix + (auth ?? "null") + "}"))),
        ]
    }

    /// CONNECT_ERROR `{"message":…,"data":{"code":…}}`, which JS clients read as
    /// `err.message` and `err.data.code`.
    private static func refusal(_ namespace: SocketIONamespace, code: String, message: String) -> SocketIOPacket {
        var data = "{\"code\":"
        JSONString.encode(code, into: &data)
        data += "}"
        return .connectError(namespace: namespace, message: message, data: data)
    }

    // MARK: Refresh

    /// The refresh event on a joined namespace: its first argument's token goes to the edge;
    /// without one the client is answered at once.
    mutating func refreshRequested(_ packet: SocketIOPacket) -> [SocketSessionAction] {
        let namespace = packet.namespace
        guard let argument = packet.arguments.first,
            case .present(let token) = Self.stringMember(self.configuration.refreshTokenField, of: String(argument))
        else {
            let refusal = self.refreshResult(status: false, reason: Self.missingTokenCode, namespace, ack: packet.ackID)
            return [.send(Self.outbound(refusal))]
        }
        return [
            .verify(SocketVerification(token: token, purpose: .refresh(namespace: namespace.name, ack: packet.ackID)))
        ]
    }

    /// The answer to a refresh: the ack the client asked for, `[{"status":true}]` or
    /// `[{"status":false,"reason":<code>}]`, or without an ack id the event
    /// `<refresh event>_result` with that object. Nothing when the namespace was left.
    mutating func refreshVerified(
        _ outcome: SocketVerificationOutcome, namespace name: String?, ack: Int?
    ) -> [SocketSessionAction] {
        guard let namespace = SocketIONamespace(name ?? SocketIONamespace.main.name), self.isJoined(namespace) else {
            return []
        }
        let result: SocketIOPacket
        switch outcome {
        case .accepted:
            self.holdsIdentity = true
            result = self.refreshResult(status: true, reason: nil, namespace, ack: ack)
        case .notRequired:
            result = self.refreshResult(status: true, reason: nil, namespace, ack: ack)
        case .refused(let code, _):
            result = self.refreshResult(status: false, reason: code, namespace, ack: ack)
        }
        return [.send(Self.outbound(result))]
    }

    private func refreshResult(
        status: Bool, reason: String?, _ namespace: SocketIONamespace, ack: Int?
    ) -> SocketIOPacket {
        var object = "{\"status\":\(status)"
        if let reason {
            object += ",\"reason\":"
            JSONString.encode(reason, into: &object)
        }
        object += "}"
        if let ack, (0...SocketIOPacket.maxAckID).contains(ack) {
            return .ack(id: ack, arguments: [object], namespace: namespace)
        }
        return .event(
            (self.configuration.refreshEvent ?? "refresh") + "_result", arguments: [object], namespace: namespace)
    }

    // MARK: Tokens

    private enum StringMember: Hashable {
        case absent
        case present(String)
        case ambiguous
    }

    /// Member `key` of the JSON object `text` as a token: absent when missing, null, not a
    /// string or empty (`auth: {token: null}` is how clients say "none"); ambiguous when
    /// given twice; also absent when `text` is not an object.
    private static func stringMember(_ key: String, of text: String) -> StringMember {
        guard let values = try? JSONScanner.values(of: key, inObject: text) else { return .absent }
        guard values.count <= 1 else { return .ambiguous }
        guard case .string(let value)? = values.first, !value.isEmpty else { return .absent }
        return .present(value)
    }
}
