/// Judges a parsed request head the way a strict edge must (RFC 9112 §3, §6, §7; RFC
/// 9110 §7.2, §10.1.1) and turns it into the canonical ``ValidatedRequest``.
///
/// Framing: at most one `Content-Length` of plain digits; `Transfer-Encoding` only as a
/// final, single `chunked` (another coding is 501), never beside `Content-Length`, never
/// in HTTP/1.0. Host: exactly one valid `Host` in HTTP/1.1; an absolute-form target's
/// authority must agree with it and is what routing uses. Methods: `CONNECT` and
/// `TRACE` are 405; `*` only with `OPTIONS`. The path is normalized by
/// ``PathNormalizer``. Pure: no clock, no I/O.
public enum RequestValidator {
    public static func validate(_ head: RequestHead, policy: RequestPolicy) -> Result<ValidatedRequest, RequestRefusal>
    {
        let method = head.method
        if method == "CONNECT" || method == "TRACE" {
            return .failure(RequestRefusal(.methodNotAllowed, status: 405, "\(method) is not served"))
        }
        var fields: [HeaderField] = []
        fields.reserveCapacity(head.fields.count + 1)
        // The one Host as a value, not a list: an array here was an allocation per request.
        var host: String?
        var duplicateHost = false
        var lengths: [String] = []
        var codings: [String] = []
        var sawTransferEncoding = false
        var connectionUpgrade = false
        var upgradeField = false
        var expectContinue = false
        for field in head.fields {
            if field.name.utf8.contains(UInt8(ascii: "_")) {
                switch policy.underscoreHeaders {
                case .reject:
                    return .failure(RequestRefusal(.underscoreHeader, "header name \(field.name) holds an underscore"))
                case .drop: continue
                case .keep: break
                }
            }
            if field.hasName("host") {
                duplicateHost = duplicateHost || host != nil
                host = field.value
                continue
            }
            if field.hasName("content-length") {
                lengths.append(field.value)
                continue
            }
            if field.hasName("transfer-encoding") {
                sawTransferEncoding = true
                for element in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let coding = element.trimmingWhitespace()
                    // ASCII only: Unicode lower-casing turns a KELVIN SIGN into `k`, so
                    // `chun\u{212A}ed` would pass as `chunked` and then as a token.
                    if !coding.isEmpty {
                        codings.append(coding.asciiLowercased())
                    }
                }
                continue
            }
            if field.hasName("connection") {
                connectionUpgrade =
                    connectionUpgrade
                    || field.value.split(separator: ",").contains {
                        $0.trimmingWhitespace().asciiLowercased() == "upgrade"
                    }
            } else if field.hasName("upgrade") {
                upgradeField = true
            } else if field.hasName("expect") {
                guard field.value.equalsASCIICaseInsensitive("100-continue") else {
                    return .failure(RequestRefusal(.unsupportedExpectation, status: 417, "only 100-continue is met"))
                }
                // RFC 9110 §10.1.1: an HTTP/1.0 client gets no 100 Continue.
                guard head.minorVersion == 1 else { continue }
                expectContinue = true
            }
            fields.append(field)
        }
        let framing: BodyFraming
        switch self.framing(lengths: lengths, codings: codings, sawTransferEncoding: sawTransferEncoding, head: head) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): framing = value
        }
        let target: String
        let effectiveHost: String
        switch self.target(head, host: host, duplicateHost: duplicateHost, policy: policy) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): (target, effectiveHost) = value
        }
        let upgrade = upgradeField && connectionUpgrade && (framing == .none || framing == .length(0))
        if upgradeField && !upgrade {
            fields.removeAll { $0.hasName("upgrade") }
        }
        fields.insert(HeaderField(name: "Host", value: effectiveHost), at: 0)
        switch framing {
        case .none: break
        case .length(let length): fields.append(HeaderField(name: "Content-Length", value: String(length)))
        case .chunked: fields.append(HeaderField(name: "Transfer-Encoding", value: "chunked"))
        }
        return .success(
            ValidatedRequest(
                method: method, target: target, minorVersion: head.minorVersion, host: effectiveHost, fields: fields,
                framing: framing, upgrade: upgrade, expectContinue: expectContinue && framing != .none))
    }

    private static func framing(
        lengths: [String], codings: [String], sawTransferEncoding: Bool, head: RequestHead
    ) -> Result<BodyFraming, RequestRefusal> {
        if sawTransferEncoding {
            if head.minorVersion == 0 {
                return .failure(RequestRefusal(.transferEncodingInHTTP10, "Transfer-Encoding in an HTTP/1.0 request"))
            }
            if !lengths.isEmpty {
                return .failure(
                    RequestRefusal(.lengthWithTransferEncoding, "both Content-Length and Transfer-Encoding"))
            }
            guard let last = codings.last else {
                return .failure(RequestRefusal(.unsupportedTransferCoding, "empty Transfer-Encoding"))
            }
            for coding in codings where !coding.utf8.allSatisfy({ ByteClass.token[Int($0)] }) {
                return .failure(RequestRefusal(.unsupportedTransferCoding, "Transfer-Encoding is not a token list"))
            }
            if codings.filter({ $0 == "chunked" }).count > 1 {
                return .failure(RequestRefusal(.unsupportedTransferCoding, "chunked applied more than once"))
            }
            guard last == "chunked", codings.count == 1 else {
                return .failure(
                    RequestRefusal(.unsupportedTransferCoding, status: 501, "only Transfer-Encoding: chunked is served")
                )
            }
            return .success(.chunked)
        }
        guard let value = lengths.first else { return .success(.none) }
        if lengths.count > 1 {
            return .failure(RequestRefusal(.duplicateContentLength, "more than one Content-Length"))
        }
        guard (1...15).contains(value.utf8.count), value.utf8.allSatisfy(ByteClass.isDigit), let length = Int(value)
        else {
            return .failure(RequestRefusal(.badContentLength, "Content-Length is not a number of digits"))
        }
        return .success(.length(length))
    }

    /// The normalized target and the effective host.
    private static func target(
        _ head: RequestHead, host: String?, duplicateHost: Bool, policy: RequestPolicy
    ) -> Result<(String, String), RequestRefusal> {
        if duplicateHost {
            return .failure(RequestRefusal(.duplicateHost, "more than one Host"))
        }
        if let host, let refusal = HostSyntax.check(host) {
            return .failure(refusal)
        }
        if host == nil && head.minorVersion == 1 {
            return .failure(RequestRefusal(.missingHost, "an HTTP/1.1 request without Host"))
        }
        let raw = head.target
        if raw == "*" {
            guard head.method == "OPTIONS" else {
                return .failure(RequestRefusal(.badTarget, "* is a target for OPTIONS only"))
            }
            return .success(("*", host ?? policy.defaultHost))
        }
        if raw.utf8.first == UInt8(ascii: "/") {
            return PathNormalizer.normalize(raw, mergeSlashes: policy.mergeSlashes).map {
                ($0, host ?? policy.defaultHost)
            }
        }
        guard let absolute = AbsoluteTarget(raw) else {
            return .failure(RequestRefusal(.badTarget, "request target is neither a path nor an http(s) URL"))
        }
        if let refusal = HostSyntax.check(absolute.authority) {
            return .failure(refusal)
        }
        if let host,
            HostSyntax.key(host, defaultPort: absolute.defaultPort)
                != HostSyntax.key(absolute.authority, defaultPort: absolute.defaultPort)
        {
            return .failure(RequestRefusal(.hostMismatch, "the target's authority and Host disagree"))
        }
        return PathNormalizer.normalize(absolute.pathAndQuery, mergeSlashes: policy.mergeSlashes).map {
            ($0, absolute.authority)
        }
    }
}

/// `http://authority/path?query` (RFC 9112 §3.2.2), split.
struct AbsoluteTarget {
    let authority: String
    let pathAndQuery: String
    let defaultPort: String

    init?(_ target: String) {
        let lower = target.prefix(8).asciiLowercased()
        let schemeLength: Int
        if lower.hasPrefix("http://") {
            schemeLength = 7
            defaultPort = "80"
        } else if lower.hasPrefix("https://") {
            schemeLength = 8
            defaultPort = "443"
        } else {
            return nil
        }
        let rest = target.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        authority = String(rest[..<end])
        let tail = rest[end...]
        pathAndQuery = tail.first == "/" ? String(tail) : "/" + tail
    }
}

extension StringProtocol {
    /// Lower-cased in ASCII only. HTTP's case-insensitive tokens are ASCII, and Unicode
    /// lower-casing would let look-alikes through (`chun\u{212A}ed`, with a KELVIN SIGN,
    /// lower-cases to `chunked`). Without an upper-case letter the text comes back as it
    /// is (a `String` uncopied): the edge lower-cases every header name it forwards.
    /// Inlinable so callers in other modules get it specialized, not through witness tables.
    @inlinable
    public func asciiLowercased() -> String {
        guard utf8.contains(where: { $0 &- UInt8(ascii: "A") < 26 }) else { return String(self) }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 {
                buffer[count] = HeaderField.lower(byte)
                count += 1
            }
            return count
        }
    }

    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingWhitespace() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
