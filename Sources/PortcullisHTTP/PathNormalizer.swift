/// Normalizes an origin-form request target's path so that routing, auth and the
/// upstream all see one spelling of it (RFC 3986 §6.2.2 and §5.2.4, as Envoy's
/// `normalize_path` and nginx's URI normalization do).
///
/// - percent-escapes of unreserved characters are decoded (`%61` → `a`, `%2e` → `.`),
///   other escapes are upper-cased (`%2f` → `%2F`); a malformed escape is refused;
/// - `.` and `..` segments are resolved, encoded ones too; a path that climbs above `/`
///   is refused rather than clamped, since a client that sends one is probing;
/// - `%00` is always refused, and so is a segment whose name before `;` parameters is a
///   dot segment (`..;`): servlet containers strip the parameters and resolve it;
/// - with `mergeSlashes`, runs of `/` become one.
///
/// `%2F` and `%5C` survive normalization (they are data, not separators, to the edge);
/// whether a route accepts them is the route's policy (``containsEncodedSeparator(_:)``).
/// The query string is left exactly as sent, after a character check and the `%00` refusal.
public enum PathNormalizer {
    public static func normalize(_ target: String, mergeSlashes: Bool) -> Result<String, RequestRefusal> {
        if isPlainNormal(target.utf8, mergeSlashes: mergeSlashes) { return .success(target) }
        var utf8 = Array(target.utf8)
        guard utf8.first == UInt8(ascii: "/") else {
            return .failure(RequestRefusal(.badTarget, "request target is not an absolute path"))
        }
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.count
        if utf8.contains(UInt8(ascii: "#")) {
            return .failure(RequestRefusal(.badTarget, "request target holds a fragment"))
        }
        for byte in utf8[queryStart...]
        where
            !(ByteClass.pathLiteral[Int(byte)] || byte == UInt8(ascii: "?")
            || byte == UInt8(ascii: "%"))
        {
            return .failure(RequestRefusal(.badTarget, "query holds a character outside RFC 3986"))
        }
        if containsEncodedNul(utf8[queryStart...]) {
            return .failure(RequestRefusal(.encodedNul, "%00 in the query"))
        }
        if isAlreadyNormal(utf8[..<queryStart], mergeSlashes: mergeSlashes) {
            return .success(target)
        }
        let path: [UInt8]
        switch decodeUnreserved(utf8[..<queryStart]) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let decoded): path = decoded
        }
        let resolved: [UInt8]
        switch resolveSegments(path, mergeSlashes: mergeSlashes) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let value): resolved = value
        }
        if resolved.count == queryStart, resolved.elementsEqual(utf8[..<queryStart]) {
            return .success(target)
        }
        utf8.replaceSubrange(0..<queryStart, with: resolved)
        return .success(String(decoding: utf8, as: UTF8.self))
    }

    /// Whether a normalized path holds `%2F` or `%5C`, which many backends decode into a
    /// separator after the edge has routed on the segment that held them.
    public static func containsEncodedSeparator(_ target: String) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        for byte in target.utf8 {
            if byte == UInt8(ascii: "?") { return false }
            if previous.0 == UInt8(ascii: "%") && previous.1 == UInt8(ascii: "2") && byte == UInt8(ascii: "F") {
                return true
            }
            if previous.0 == UInt8(ascii: "%") && previous.1 == UInt8(ascii: "5") && byte == UInt8(ascii: "C") {
                return true
            }
            previous = (previous.1, byte)
        }
        return false
    }

    /// Whether `bytes` hold the escape `%00`, which a backend in C reads as the end of
    /// the string: the query is forwarded as sent, so it must not carry one either.
    private static func containsEncodedNul(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        while let percent = bytes[index...].firstIndex(of: UInt8(ascii: "%")) {
            if bytes[(percent + 1)...].starts(with: "00".utf8) { return true }
            index = percent + 1
        }
        return false
    }

    /// Whether a whole target is accepted as it stands, read in place: a path of literal
    /// characters that ``isAlreadyNormal(_:mergeSlashes:)`` would pass, then a query that
    /// passes the checks below. Most targets are, and skip the byte array the general case
    /// works on (an allocation per request). Anything else takes the general case.
    private static func isPlainNormal(_ target: String.UTF8View, mergeSlashes: Bool) -> Bool {
        guard target.first == UInt8(ascii: "/") else { return false }
        var inQuery = false
        var previous: UInt8 = 0
        for byte in target {
            if inQuery {
                guard ByteClass.pathLiteral[Int(byte)] || byte == UInt8(ascii: "?") else { return false }
            } else if byte == UInt8(ascii: "?") {
                inQuery = true
            } else {
                guard ByteClass.pathLiteral[Int(byte)] else { return false }
                if previous == UInt8(ascii: "/") {
                    if byte == UInt8(ascii: ".") || (mergeSlashes && byte == UInt8(ascii: "/")) { return false }
                }
            }
            previous = byte
        }
        return true
    }

    /// Whether a path is normal as it stands: literal characters only (no escape to
    /// decode), no segment starting with `.`, and no empty segment to merge. Most paths
    /// are, and skip the copies the general case makes.
    private static func isAlreadyNormal(_ path: ArraySlice<UInt8>, mergeSlashes: Bool) -> Bool {
        var previous: UInt8 = 0
        for byte in path {
            guard ByteClass.pathLiteral[Int(byte)] else { return false }
            if previous == UInt8(ascii: "/") {
                if byte == UInt8(ascii: ".") || (mergeSlashes && byte == UInt8(ascii: "/")) { return false }
            }
            previous = byte
        }
        return true
    }

    /// Checks the path's characters, decodes escapes of unreserved characters and
    /// upper-cases the others.
    private static func decodeUnreserved(_ path: ArraySlice<UInt8>) -> Result<[UInt8], RequestRefusal> {
        var output: [UInt8] = []
        output.reserveCapacity(path.count)
        var index = path.startIndex
        while index < path.endIndex {
            let byte = path[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < path.endIndex, let high = ByteClass.hexValue(path[index + 1]),
                    let low = ByteClass.hexValue(path[index + 2])
                else {
                    return .failure(RequestRefusal(.badTarget, "malformed percent-escape in the path"))
                }
                let decoded = high << 4 | low
                if decoded == 0 {
                    return .failure(RequestRefusal(.encodedNul, "%00 in the path"))
                }
                if ByteClass.isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output.append(UInt8(ascii: "%"))
                    output.append(upperHex(high))
                    output.append(upperHex(low))
                }
                index += 3
                continue
            }
            guard ByteClass.pathLiteral[Int(byte)] else {
                return .failure(RequestRefusal(.badTarget, "path holds a character outside RFC 3986"))
            }
            output.append(byte)
            index += 1
        }
        return .success(output)
    }

    /// RFC 3986 §5.2.4 over segments, refusing a climb above the root.
    private static func resolveSegments(_ path: [UInt8], mergeSlashes: Bool) -> Result<[UInt8], RequestRefusal> {
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var output: [ArraySlice<UInt8>] = []
        output.reserveCapacity(segments.count)
        // A path ending in a dot segment keeps its trailing slash (`/a/b/..` → `/a/`).
        var trailingSlash = false
        for (position, segment) in segments.enumerated() {
            let isLast = position == segments.count - 1
            let name = segment.firstIndex(of: UInt8(ascii: ";")).map { segment[..<$0] } ?? segment[...]
            let isDot = name.elementsEqual(".".utf8)
            let isDotDot = name.elementsEqual("..".utf8)
            if (isDot || isDotDot) && name.count != segment.count {
                return .failure(RequestRefusal(.dotSegmentParameter, "a dot segment with ; parameters"))
            }
            if isDot {
                trailingSlash = isLast
                continue
            }
            if isDotDot {
                guard output.popLast() != nil else {
                    return .failure(RequestRefusal(.pathAboveRoot, "the path climbs above /"))
                }
                trailingSlash = isLast
                continue
            }
            if segment.isEmpty && mergeSlashes && !isLast { continue }
            trailingSlash = false
            output.append(segment)
        }
        var result: [UInt8] = [UInt8(ascii: "/")]
        result.reserveCapacity(path.count)
        for (position, segment) in output.enumerated() {
            if position > 0 { result.append(UInt8(ascii: "/")) }
            result.append(contentsOf: segment)
        }
        if trailingSlash && result.last != UInt8(ascii: "/") { result.append(UInt8(ascii: "/")) }
        if mergeSlashes, result.count >= 2, result[result.count - 1] == UInt8(ascii: "/"),
            result[result.count - 2] == UInt8(ascii: "/")
        {
            result.removeLast()
        }
        return .success(result)
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
