extension PerMessageDeflate {
    /// One `permessage-deflate` offer's parameters (RFC 7692 §7.1), as the client sent them.
    struct Offer: Hashable, Sendable {
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        /// The window the client asks us to stay within, 8–15.
        var serverMaxWindowBits: Int?
        /// Present when the client can limit its window; the inner value is its own limit.
        var clientMaxWindowBits: Int??
    }

    /// Accepts the first acceptable `permessage-deflate` offer in `offers` (the values of
    /// every `Sec-WebSocket-Extensions` header, in order) under `policy`; nil declines
    /// them all (the 101 then carries no extension and frames go uncompressed).
    ///
    /// An offer is declined when it is malformed (unknown or repeated parameter, value
    /// where none belongs, window bits outside 8–15), when it asks for
    /// `server_max_window_bits=8` (zlib cannot produce an 8-bit raw deflate window, and a
    /// bigger one would break a client that allocated 256 bytes), or when the policy limits
    /// the client's window and the offer cannot (no `client_max_window_bits`).
    /// Other extensions are ignored.
    public static func negotiate(offers: [String], policy: Policy) -> PerMessageDeflate? {
        for offer in ExtensionOffers.parse(offers) where offer.name == extensionName {
            guard let parameters = Offer(offer.parameters) else { continue }
            if let agreed = accept(parameters, policy: policy) { return agreed }
        }
        return nil
    }

    static func accept(_ offer: Offer, policy: Policy) -> PerMessageDeflate? {
        var response = [extensionName]
        let serverNoContextTakeover = offer.serverNoContextTakeover || policy.serverNoContextTakeover
        if serverNoContextTakeover { response.append("server_no_context_takeover") }
        let clientNoContextTakeover = offer.clientNoContextTakeover || policy.clientNoContextTakeover
        if clientNoContextTakeover { response.append("client_no_context_takeover") }
        var serverBits = policy.serverMaxWindowBits
        if let requested = offer.serverMaxWindowBits {
            guard requested >= 9 else { return nil }
            serverBits = min(requested, serverBits)
            response.append("server_max_window_bits=\(serverBits)")
        }
        var clientBits = 15
        switch offer.clientMaxWindowBits {
        case .none:
            guard policy.clientMaxWindowBits == 15 else { return nil }
        case .some(let limit):
            clientBits = min(limit ?? 15, policy.clientMaxWindowBits)
            if clientBits < 15 || limit != nil { response.append("client_max_window_bits=\(clientBits)") }
        }
        return PerMessageDeflate(
            serverNoContextTakeover: serverNoContextTakeover, clientNoContextTakeover: clientNoContextTakeover,
            serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits, minSize: policy.minSize,
            responseHeaderValue: response.joined(separator: "; "))
    }
}

extension PerMessageDeflate.Offer {
    /// nil when the parameters make the offer invalid (RFC 7692 §7.1: unknown, repeated,
    /// or with an invalid value).
    init?(_ parameters: [ExtensionOffers.Offer.Parameter]) {
        var seen: Set<String> = []
        for parameter in parameters {
            let (name, value) = (parameter.name, parameter.value)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                self.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                self.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = Self.windowBits(value) else { return nil }
                self.serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    self.clientMaxWindowBits = .some(bits)
                } else {
                    self.clientMaxWindowBits = .some(nil)
                }
            default:
                return nil
            }
        }
    }

    /// `8`–`15` in decimal without leading zeros (RFC 7692 §7.1.2.1).
    private static func windowBits(_ text: String) -> Int? {
        guard let bits = Int(text), (8...15).contains(bits), String(bits) == text else { return nil }
        return bits
    }
}
