/// An upstream's HTTP/1.x response head (RFC 9112 §4–§6), parsed over raw bytes into a
/// ``ResponseHead`` of byte ranges.
///
/// As strict as the request side where it matters for the client: lines end in CRLF, no
/// obs-fold, field names are tokens, values hold no control characters, so nothing a
/// backend sends can split the response the edge relays. The framing is judged here too:
/// one `Content-Length` of digits, or `Transfer-Encoding` that is exactly `chunked`, never
/// both; anything else is a ``ResponseProblem`` and the edge answers 502.
public enum ResponseHeadParser {
    /// Where a head ends in a buffer that may hold only its beginning.
    public enum Scan: Equatable, Sendable {
        /// The head is `length` bytes long, the final CRLF CRLF included.
        case complete(length: Int)
        /// No end yet; resume scanning at `resumeAt` when more bytes arrive.
        case incomplete(resumeAt: Int)
        case problem(ResponseProblem)
    }

    /// The most bytes a response head may take.
    public static let defaultMaxHeadSize = 64 * 1024
    /// The most fields a response head may have.
    public static let defaultMaxFields = 200

    /// Finds the end of the head, refusing one longer than `maxHeadSize` as bytes arrive.
    ///
    /// - Parameter start: where the previous scan stopped (0 at first).
    public static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int, maxHeadSize: Int) -> Scan {
        var index = max(start, 0)
        let count = bytes.count
        while index < count {
            if bytes[index] == 0x0A {
                if index >= 3 && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                    return .complete(length: index + 1)
                }
                if index >= 1 && bytes[index - 1] == 0x0A {
                    return .problem(ResponseProblem("response head line ends in a bare LF"))
                }
            }
            index += 1
            if index >= maxHeadSize {
                return .problem(ResponseProblem("response head over \(maxHeadSize) bytes"))
            }
        }
        return .incomplete(resumeAt: max(count - 3, 0))
    }

    /// Parses a complete head (as delimited by ``scan(_:from:maxHeadSize:)``).
    ///
    /// - Parameter requestWasHead: the request was `HEAD`, so the response has no body
    ///   whatever its fields say.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, requestWasHead: Bool, maxFields: Int = defaultMaxFields
    ) -> Result<ResponseHead, ResponseProblem> {
        guard case .at(let lineEnd) = HeadLine.end(in: bytes, from: 0) else {
            return .failure(ResponseProblem("status line does not end in CRLF"))
        }
        guard let line = statusLine(bytes, end: lineEnd) else {
            return .failure(ResponseProblem("malformed status line"))
        }
        var reader = FieldReader(minorVersion: line.minorVersion)
        var cursor = lineEnd + 2
        while true {
            let end: Int
            switch HeadLine.end(in: bytes, from: cursor) {
            case .at(let value): end = value
            case .incomplete: return .failure(ResponseProblem("field section does not end in CRLF"))
            case .bareCR, .bareLF: return .failure(ResponseProblem("bare CR or LF in the response head"))
            }
            if end == cursor { break }
            if reader.fields.count == maxFields {
                return .failure(ResponseProblem("more than \(maxFields) header fields"))
            }
            if let problem = reader.read(bytes, line: cursor..<end) { return .failure(problem) }
            cursor = end + 2
        }
        return reader.head(bytes, status: line.status, reason: line.reason, requestWasHead: requestWasHead)
    }

    // MARK: Pieces

    /// `HTTP/1.x SP 3DIGIT [SP reason]`; a missing reason (and its space) is accepted, as
    /// backends send it.
    private static func statusLine(
        _ bytes: UnsafeRawBufferPointer, end: Int
    ) -> (minorVersion: Int, status: Int, reason: Range<Int>)? {
        guard end >= 12, bytes[0..<5].elementsEqual("HTTP/".utf8), bytes[5] == UInt8(ascii: "1"),
            bytes[6] == UInt8(ascii: "."), ByteClass.isDigit(bytes[7]), bytes[8] == 0x20
        else { return nil }
        var status = 0
        for index in 9..<12 {
            guard ByteClass.isDigit(bytes[index]) else { return nil }
            status = status * 10 + Int(bytes[index] - UInt8(ascii: "0"))
        }
        guard (100...599).contains(status) else { return nil }
        var reason = end..<end
        if end > 12 {
            guard bytes[12] == 0x20 else { return nil }
            for index in 13..<end where !ByteClass.fieldValue[Int(bytes[index])] { return nil }
            reason = 13..<end
        }
        return (bytes[7] == UInt8(ascii: "0") ? 0 : 1, status, reason)
    }

    /// Collects fields and what they say about framing and the connection.
    private struct FieldReader {
        let minorVersion: Int
        var fields: [ResponseHead.Field] = []
        var lengths = 0
        var length = 0
        var lengthValid = true
        var sawTransferEncoding = false
        var codings = 0
        var chunkedLast = false
        var close = false
        var keepAliveToken = false
        /// Field names listed in `Connection` other than `close`, `keep-alive`, `upgrade`.
        var nominated: [Range<Int>] = []

        init(minorVersion: Int) {
            self.minorVersion = minorVersion
            fields.reserveCapacity(16)
        }

        mutating func read(_ bytes: UnsafeRawBufferPointer, line: Range<Int>) -> ResponseProblem? {
            let first = bytes[line.lowerBound]
            if first == 0x20 || first == 0x09 {
                return ResponseProblem("obsolete line folding in the response head")
            }
            var colon = line.lowerBound
            while colon < line.upperBound, ByteClass.token[Int(bytes[colon])] { colon += 1 }
            guard colon > line.lowerBound, colon < line.upperBound, bytes[colon] == UInt8(ascii: ":") else {
                return ResponseProblem("response header name is not a token followed by a colon")
            }
            var start = colon + 1
            var end = line.upperBound
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            for index in start..<end where !ByteClass.fieldValue[Int(bytes[index])] {
                return ResponseProblem("response header value holds a control character or NUL")
            }
            let name = line.lowerBound..<colon
            let value = start..<end
            var role = ResponseHead.FieldRole.endToEnd
            switch FieldName(bytes, name) {
            case .contentLength:
                lengths += 1
                lengthValid = (1...15).contains(value.count) && value.allSatisfy { ByteClass.isDigit(bytes[$0]) }
                length = lengthValid ? value.reduce(0) { $0 * 10 + Int(bytes[$1] - UInt8(ascii: "0")) } : 0
            case .transferEncoding:
                role = .hopByHop
                sawTransferEncoding = true
                forEachListElement(bytes, value) { element in
                    codings += 1
                    chunkedLast = FieldName.equals(bytes, element, "chunked")
                }
            case .connection:
                role = .hopByHop
                forEachListElement(bytes, value) { token in
                    if FieldName.equals(bytes, token, "close") {
                        close = true
                    } else if FieldName.equals(bytes, token, "keep-alive") {
                        keepAliveToken = true
                    } else if !FieldName.equals(bytes, token, "upgrade") {
                        nominated.append(token)
                    }
                }
            case .hopByHop:
                role = .hopByHop
            case .upgrade:
                role = .upgrade
            case .requestId:
                role = .requestId
            case .other:
                break
            }
            fields.append(ResponseHead.Field(name: name, value: value, role: role))
            return nil
        }

        func head(
            _ bytes: UnsafeRawBufferPointer, status: Int, reason: Range<Int>, requestWasHead: Bool
        ) -> Result<ResponseHead, ResponseProblem> {
            var body = ResponseHead.Body.untilClose
            if status < 200 || status == 204 || status == 304 {
                // These carry no body whatever their fields say.
                body = .none
            } else if sawTransferEncoding {
                if lengths > 0 { return .failure(ResponseProblem("both Content-Length and Transfer-Encoding")) }
                guard codings == 1, chunkedLast else {
                    return .failure(ResponseProblem("Transfer-Encoding other than chunked"))
                }
                body = .chunked
            } else if lengths > 1 {
                return .failure(ResponseProblem("more than one Content-Length"))
            } else if lengths == 1 {
                guard lengthValid else { return .failure(ResponseProblem("Content-Length is not a number of digits")) }
                body = .length(length)
            }
            if requestWasHead { body = .none }
            var fields = self.fields
            if !nominated.isEmpty {
                for index in fields.indices where fields[index].role != .hopByHop {
                    let name = fields[index].name
                    // A nomination cannot remove the framing the edge read the body by.
                    if FieldName(bytes, name) == .contentLength { continue }
                    if nominated.contains(where: { FieldName.equalsIgnoringCase(bytes, $0, name) }) {
                        fields[index].role = .hopByHop
                    }
                }
            }
            let keepAlive = body != .untilClose && !close && (minorVersion == 1 || keepAliveToken)
            return .success(
                ResponseHead(
                    minorVersion: minorVersion, status: status, reason: reason, fields: fields, body: body,
                    keepAlive: keepAlive))
        }
    }

    /// Calls `body` with each non-empty element of a comma-separated list, trimmed.
    private static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer, _ value: Range<Int>, _ body: (Range<Int>) -> Void
    ) {
        var start = value.lowerBound
        while start <= value.upperBound {
            var end = start
            while end < value.upperBound, bytes[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            while last > first, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 { last -= 1 }
            if first < last { body(first..<last) }
            start = end + 1
        }
    }
}

/// The field names the response parser acts on, recognized on bytes.
private enum FieldName: Equatable {
    case contentLength, transferEncoding, connection, hopByHop, upgrade, requestId, other

    private static let known: [(name: StaticString, kind: FieldName)] = [
        ("te", .hopByHop), ("upgrade", .upgrade), ("trailer", .hopByHop), ("trailers", .hopByHop),
        ("connection", .connection), ("keep-alive", .hopByHop), ("x-request-id", .requestId),
        ("content-length", .contentLength), ("proxy-connection", .hopByHop),
        ("transfer-encoding", .transferEncoding), ("proxy-authenticate", .hopByHop),
        ("proxy-authorization", .hopByHop),
    ]

    init(_ bytes: UnsafeRawBufferPointer, _ name: Range<Int>) {
        for entry in Self.known
        where entry.name.utf8CodeUnitCount == name.count && Self.equals(bytes, name, entry.name) {
            self = entry.kind
            return
        }
        self = .other
    }

    /// Whether `bytes[range]` is `lowercased` with ASCII letters folded.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercased: StaticString) -> Bool {
        let literal = UnsafeRawBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
        return equalFolded(bytes, range, literal, 0..<literal.count)
    }

    /// Whether two ranges of `bytes` hold the same name with ASCII letters folded.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
        equalFolded(bytes, lhs, bytes, rhs)
    }

    private static func equalFolded(
        _ lhs: UnsafeRawBufferPointer, _ lhsRange: Range<Int>, _ rhs: UnsafeRawBufferPointer, _ rhsRange: Range<Int>
    ) -> Bool {
        guard lhsRange.count == rhsRange.count else { return false }
        for offset in 0..<lhsRange.count
        where HeaderField.lower(lhs[lhsRange.lowerBound + offset])
            != HeaderField.lower(rhs[rhsRange.lowerBound + offset])
        {
            return false
        }
        return true
    }
}
