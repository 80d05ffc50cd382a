/// A token split into its three JWS Compact Serialization parts (RFC 7515 §7.1) with the
/// header and payload decoded and parsed. Nothing here is trusted yet.
struct CompactJWS {
    /// `BASE64URL(header) . BASE64URL(payload)`, the bytes the signature covers.
    var signingInput: ArraySlice<UInt8>
    var header: JSONObject
    var payload: JSONObject
    var signature: [UInt8]

    /// Splits and decodes. Five parts is a JWE (refused as unsupported); anything but
    /// three non-empty base64url parts (the signature may be empty, so `alg: none` is
    /// reported as such) or JSON objects is malformed.
    static func parse(_ bytes: [UInt8]) -> Result<CompactJWS, AuthFailure> {
        var dots: [Int] = []
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: ".") {
            dots.append(index)
            if dots.count > 4 { break }
        }
        switch dots.count {
        case 2: break
        case 4: return .failure(AuthFailure(.unsupportedToken, "a JWE (5 parts); only signed tokens are accepted"))
        default: return .failure(AuthFailure(.malformed, "not three dot-separated parts"))
        }
        let headerPart = bytes[0..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]
        guard !headerPart.isEmpty, !payloadPart.isEmpty else {
            return .failure(AuthFailure(.malformed, "empty header or payload"))
        }
        guard let headerBytes = Base64.urlDecoded(headerPart) else {
            return .failure(AuthFailure(.malformed, "header is not base64url"))
        }
        guard let header = JSONValue.parse(headerBytes)?.objectValue else {
            return .failure(AuthFailure(.malformed, "header is not a JSON object"))
        }
        guard let payloadBytes = Base64.urlDecoded(payloadPart) else {
            return .failure(AuthFailure(.malformed, "payload is not base64url"))
        }
        guard let payload = JSONValue.parse(payloadBytes)?.objectValue else {
            return .failure(AuthFailure(.malformed, "payload is not a JSON object"))
        }
        guard let signature = Base64.urlDecoded(signaturePart) else {
            return .failure(AuthFailure(.malformed, "signature is not base64url"))
        }
        return .success(
            CompactJWS(signingInput: bytes[0..<dots[1]], header: header, payload: payload, signature: signature))
    }
}

/// What a token's header names, read without verifying anything: for tools that pick a
/// key before verification (`portcullis token verify` with one key file and no `--kid`).
public enum UnverifiedJWTHeader {
    /// The header's `kid`, when the token parses and names one.
    public static func keyID(of token: String) -> String? {
        guard case .success(let jws) = CompactJWS.parse(Array(token.utf8)) else { return nil }
        return jws.header["kid"]?.stringValue
    }
}
