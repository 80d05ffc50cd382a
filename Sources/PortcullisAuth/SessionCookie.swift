/// express-session's signed cookie (`cookie-signature`): the value is
/// `s:` + sid + `.` + base64(HMAC-SHA256(secret, sid)) without `=` padding, URL-encoded
/// in the header. The first secret signs; every secret verifies, so secrets rotate by
/// adding a new one in front and removing the old one later.
public enum SessionCookie {
    /// The session id in a cookie value as it appears in the `Cookie` header, or nil if
    /// the value is unsigned or no secret's signature matches. Comparison is constant
    /// time per secret; empty secrets are ignored.
    public static func unsign(value: String, secrets: [String]) -> String? {
        // decodeURIComponent; on a decode error express keeps the raw value.
        let decoded = PercentDecoding.decode(value) ?? value
        guard decoded.hasPrefix("s:") else { return nil }
        let signed = decoded.dropFirst(2)
        guard let dot = signed.lastIndex(of: ".") else { return nil }
        let sid = String(signed[..<dot])
        let presented = Array(signed[signed.index(after: dot)...].utf8)
        var matched = false
        for secret in secrets where !secret.isEmpty {
            // Every secret is tried (no early exit) so timing does not say which matched.
            let expected = Array(signature(sid: sid, secret: secret).utf8)
            if constantTimeEquals(expected, presented) { matched = true }
        }
        return matched ? sid : nil
    }

    /// `s:<sid>.<signature>`, before URL-encoding.
    public static func sign(sid: String, secret: String) -> String {
        "s:" + sid + "." + signature(sid: sid, secret: secret)
    }

    /// The value as express sends it in `Set-Cookie` (encodeURIComponent of `sign`).
    public static func encodedValue(sid: String, secret: String) -> String {
        PercentDecoding.encodeComponent(sign(sid: sid, secret: secret))
    }

    /// base64(HMAC-SHA256(key: secret, message: sid)) with the `=` padding removed.
    public static func signature(sid: String, secret: String) -> String {
        let mac = MessageDigest.sha256.hmac(key: Array(secret.utf8), message: Array(sid.utf8))
        return Base64.standardEncodedWithoutPadding(mac)
    }

    /// The secrets in a secrets file: one per line (`\n` or `\r\n`), first line signs;
    /// blank lines are skipped. Lines are used as-is otherwise (spaces are part of the
    /// secret).
    public static func secrets(fromFileContents text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init)
    }
}

extension SessionCookie {
    /// Reads a secrets file (see `secrets(fromFileContents:)`); a file with no secret is
    /// an error, since it would make every cookie invalid.
    public static func loadSecrets(file path: String) throws(KeySetError) -> [String] {
        let bytes = try KeySet.readFile(path)
        guard let text = UTF8Validation.string(bytes) else {
            throw KeySetError(.invalidFile, file: path, message: "not UTF-8 text")
        }
        let secrets = secrets(fromFileContents: text)
        guard !secrets.isEmpty else { throw KeySetError(.invalidFile, file: path, message: "no secret in the file") }
        return secrets
    }
}

extension SessionCookie {
    /// A short, non-reversible name for a secret (the first 8 hex digits of its SHA-256):
    /// what an operator compares to confirm which secrets a running edge loaded, without
    /// the secret appearing in output or logs.
    public static func fingerprint(of secret: String) -> String {
        MessageDigest.sha256.digest(Array(secret.utf8)).prefix(4).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
