/// A parsed close frame. An empty close payload is reported as
/// ``WebSocketCloseCode/noStatusReceived`` (1005) with an empty reason.
public struct WebSocketClose: Hashable, Sendable {
    public var code: WebSocketCloseCode
    public var reason: String

    public init(code: WebSocketCloseCode, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    /// Encodes a close payload we send: 2-byte code then the reason, cut at a scalar
    /// boundary so the whole payload stays within the 125-byte control frame limit.
    /// Unsendable codes (1005, 1006, 1015, out of range) become 1000 for "no status"
    /// and 1011 otherwise, so a caller bug never puts a reserved code on the wire.
    public static func encodePayload(code: WebSocketCloseCode, reason: String) -> [UInt8] {
        let wireCode: WebSocketCloseCode
        if code.isSendable {
            wireCode = code
        } else if code == .noStatusReceived {
            wireCode = .normalClosure
        } else {
            wireCode = .internalError
        }
        var bytes: [UInt8] = [UInt8(wireCode.rawValue >> 8), UInt8(wireCode.rawValue & 0xFF)]
        for scalar in reason.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            guard bytes.count + encoded.count <= 125 else { break }
            bytes.append(contentsOf: encoded)
        }
        return bytes
    }
}
