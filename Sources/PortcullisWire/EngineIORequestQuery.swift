/// The query string of an Engine.IO 4 request (`?EIO=4&transport=websocket&sid=…&t=…`),
/// checked the way the reference server checks it.
///
/// The edge parses it once per request on a socket route, before the upgrade or the
/// polling exchange, and answers a thrown ``EngineIORequestError`` with its status and body.
/// Checks run in the reference order: the transport (code 0), then the protocol version
/// (code 5, so `EIO=3` and a missing `EIO` both give 5). Whether `sid` names a live session
/// (code 1) is for the caller, which owns the sessions; ``check(method:isWebSocketUpgrade:)``
/// covers the request-level checks (codes 2 and 3).
///
/// Stricter than the reference (`URLSearchParams`, last duplicate wins, bad escapes kept
/// literally): a malformed escape, a value that is not UTF-8, or a second `EIO`,
/// `transport`, `sid` or `t` is a bad request (code 3). Names and values are
/// percent-decoded with `+` as a space, as `URLSearchParams` reads them. An empty `sid` is
/// no `sid`, as in the reference (`if (sid)`).
public struct EngineIORequestQuery: Hashable, Sendable {
    public enum Transport: String, Hashable, Sendable, CaseIterable {
        case polling
        case websocket
    }

    /// A query parameter other than `EIO`, `transport`, `sid` and `t`: what the client's
    /// `query` option added (`socket.handshake.query` on a JS server).
    public struct Parameter: Hashable, Sendable {
        public let name: String
        public let value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public let transport: Transport
    /// The session this request belongs to; nil on a handshake.
    public let sid: String?
    /// `t`, the polling cache-buster; carried, never interpreted.
    public let cacheBuster: String?
    /// The other parameters, decoded, in the order they came, duplicates kept.
    public let parameters: [Parameter]

    /// Parses the part of the target after `?` (without a `#` fragment). `transports` are
    /// the ones this route serves; any other is code 0, as with the reference option
    /// `transports: ["websocket"]`.
    public init(query: Substring, transports: [Transport] = Transport.allCases) throws(EngineIORequestError) {
        var protocolVersion: String?
        var transportName: String?
        var sid: String?
        var cacheBuster: String?
        var parameters: [Parameter] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = try Self.decodeComponent(pair[..<equals])
            let value = equals == pair.endIndex ? "" : try Self.decodeComponent(pair[pair.index(after: equals)...])
            switch name {
            case "EIO": try Self.setOnce(&protocolVersion, value, name: name)
            case "transport": try Self.setOnce(&transportName, value, name: name)
            case "sid": try Self.setOnce(&sid, value, name: name)
            case "t": try Self.setOnce(&cacheBuster, value, name: name)
            default: parameters.append(Parameter(name: name, value: value))
            }
        }
        guard let transportName, let transport = Transport(rawValue: transportName), transports.contains(transport)
        else {
            throw EngineIORequestError(code: .unknownTransport, reason: "transport \(transportName ?? "missing")")
        }
        guard protocolVersion == "4" else {
            throw EngineIORequestError(
                code: .unsupportedProtocolVersion, reason: "EIO \(protocolVersion ?? "missing")")
        }
        self.transport = transport
        self.sid = sid?.isEmpty == false ? sid : nil
        self.cacheBuster = cacheBuster
        self.parameters = parameters
    }

    /// Parses the query of a request target (`/socket.io/?EIO=4&…`); no `?` is an empty
    /// query, which fails for want of `transport`.
    public init(target: String, transports: [Transport] = Transport.allCases) throws(EngineIORequestError) {
        guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else {
            try self.init(query: "", transports: transports)
            return
        }
        var query = target[target.utf8.index(after: question)...]
        if let hash = query.utf8.firstIndex(of: UInt8(ascii: "#")) { query = query[..<hash] }
        try self.init(query: query, transports: transports)
    }

    /// True for the request that opens a session (no `sid`).
    public var isHandshake: Bool {
        self.sid == nil
    }

    /// The first value of parameter `name` among ``parameters``.
    public func value(of name: String) -> String? {
        self.parameters.first { $0.name == name }?.value
    }

    /// The request-level checks of the reference `verify`: a handshake must be a `GET`
    /// (code 2); `transport=websocket` only on a WebSocket upgrade, and an upgrade only
    /// with `transport=websocket` (code 3).
    public func check(method: String, isWebSocketUpgrade: Bool) throws(EngineIORequestError) {
        if self.isHandshake, method != "GET" {
            throw EngineIORequestError(code: .badHandshakeMethod, reason: "handshake with \(method)")
        }
        if isWebSocketUpgrade != (self.transport == .websocket) {
            throw EngineIORequestError(
                code: .badRequest,
                reason: isWebSocketUpgrade ? "upgrade with transport polling" : "transport websocket without upgrade"
            )
        }
    }

    private static func setOnce(_ slot: inout String?, _ value: String, name: String) throws(EngineIORequestError) {
        guard slot == nil else {
            throw EngineIORequestError(code: .badRequest, reason: "duplicate \(name)")
        }
        slot = value
    }

    /// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space,
    /// `%XX` a byte; the result must be UTF-8.
    private static func decodeComponent(_ raw: Substring.UTF8View.SubSequence) throws(EngineIORequestError) -> String {
        if !raw.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(Substring(raw))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index != raw.endIndex {
            let byte = raw[index]
            raw.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index != raw.endIndex, let high = hexDigit(raw[index]) else { throw malformed }
                raw.formIndex(after: &index)
                guard index != raw.endIndex, let low = hexDigit(raw[index]) else { throw malformed }
                raw.formIndex(after: &index)
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        guard UTF8StreamValidator.isValid(bytes) else {
            throw EngineIORequestError(code: .badRequest, reason: "query is not UTF-8 once decoded")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let malformed = EngineIORequestError(code: .badRequest, reason: "malformed percent-escape in query")

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
