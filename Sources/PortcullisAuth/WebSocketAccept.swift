import Foundation

/// The `Sec-WebSocket-Accept` value of RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
///
/// Lives here because this module owns OpenSSL; the digest is fixed by the RFC and proves
/// only that the server read the handshake, nothing about identity.
public enum WebSocketAccept {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// nil unless `key` is the base64 encoding of exactly 16 bytes (§4.1).
    public static func value(forKey key: String) -> String? {
        let trimmed = key.trimmingCharacters(in: .whitespaces)
        guard let decoded = Data(base64Encoded: trimmed), decoded.count == 16 else { return nil }
        let digest = MessageDigest.sha1.digest(Array((trimmed + guid).utf8))
        return Data(digest).base64EncodedString()
    }
}
