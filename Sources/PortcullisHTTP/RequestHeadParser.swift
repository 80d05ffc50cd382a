/// The strict HTTP/1.1 request head syntax of RFC 9112 §2–§5, over raw bytes.
///
/// Stricter than the RFC's "MAY accept" clauses, as the edge must be: lines end in CRLF
/// (a bare LF or CR is refused), no whitespace between a field name and its colon, no
/// obs-fold, no control characters or NUL in values, names are tokens, one SP between
/// the request line's parts. Whatever passes here is re-serialised by the edge, so a
/// backend never sees bytes the edge read differently.
public enum RequestHeadParser {
    /// Where a head ends in a buffer that may hold only its beginning.
    public enum Scan: Equatable, Sendable {
        /// The head is `length` bytes long, the final CRLF CRLF included.
        case complete(length: Int)
        /// No end yet; resume scanning at `resumeAt` when more bytes arrive.
        case incomplete(resumeAt: Int)
        case refused(RequestRefusal)
    }

    /// Finds the end of the head, enforcing the size limits as bytes arrive so a client
    /// cannot make the edge buffer more than `maxHeadSize`.
    ///
    /// - Parameter from: where the previous scan stopped (0 at first).
    public static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int, limits: HeadLimits) -> Scan {
        var index = max(start, 0)
        let count = bytes.count
        while index < count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index >= 3 && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                    return .complete(length: index + 1)
                }
                if index >= 1 && bytes[index - 1] == 0x0A {
                    // LF LF: a bare LF ended a line; the parser would refuse it anyway.
                    return .refused(RequestRefusal(.badLineEnding, "line ends in a bare LF"))
                }
            }
            index += 1
            // None of the first `index` bytes ended the head: it is longer than maxHeadSize.
            if index >= limits.maxHeadSize {
                return .refused(tooLarge(bytes, limits: limits))
            }
        }
        // The cheap test first: a request line arriving a byte at a time must not cost O(n²).
        if count > limits.maxRequestLine + 1 && !hasLineEnd(bytes, within: limits.maxRequestLine + 2) {
            return .refused(requestLineTooLong(limits))
        }
        return .incomplete(resumeAt: max(count - 3, 0))
    }

    /// Parses a complete head (as delimited by ``scan(_:from:limits:)``).
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: HeadLimits) -> Result<RequestHead, RequestRefusal>
    {
        let requestLineEnd: Int
        switch endOfLine(bytes, from: 0) {
        case .at(let end): requestLineEnd = end
        case .incomplete: return .failure(RequestRefusal(.badLineEnding, "request line does not end in CRLF"))
        case .refused(let refusal): return .failure(refusal)
        }
        if requestLineEnd > limits.maxRequestLine { return .failure(requestLineTooLong(limits)) }
        return requestLine(UnsafeRawBufferPointer(rebasing: bytes[0..<requestLineEnd])).flatMap { head in
            let rest = UnsafeRawBufferPointer(rebasing: bytes[(requestLineEnd + 2)...])
            return fields(rest, maxFields: limits.maxFields).map { fields in
                RequestHead(method: head.method, target: head.target, minorVersion: head.minorVersion, fields: fields)
            }
        }
    }

    /// Parses a field section ending in an empty line: a head's fields or a chunked body's
    /// trailers.
    public static func fields(_ bytes: UnsafeRawBufferPointer, maxFields: Int) -> Result<[HeaderField], RequestRefusal>
    {
        var cursor = 0
        var fields: [HeaderField] = []
        fields.reserveCapacity(16)
        while true {
            let end: Int
            switch endOfLine(bytes, from: cursor) {
            case .at(let value): end = value
            case .incomplete: return .failure(RequestRefusal(.badLineEnding, "field section does not end in CRLF"))
            case .refused(let refusal): return .failure(refusal)
            }
            if end == cursor { return .success(fields) }
            if fields.count == maxFields {
                return .failure(RequestRefusal(.tooManyHeaders, status: 431, "more than \(maxFields) header fields"))
            }
            switch field(UnsafeRawBufferPointer(rebasing: bytes[cursor..<end])) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let value): fields.append(value)
            }
            cursor = end + 2
        }
    }

    // MARK: Pieces

    private enum LineEnd {
        /// The index of the line's CR.
        case at(Int)
        case incomplete
        case refused(RequestRefusal)
    }

    /// The next CRLF at or after `start`; a bare CR or LF is refused.
    private static func endOfLine(_ bytes: UnsafeRawBufferPointer, from start: Int) -> LineEnd {
        switch HeadLine.end(in: bytes, from: start) {
        case .at(let index): return .at(index)
        case .incomplete: return .incomplete
        case .bareCR: return .refused(RequestRefusal(.badLineEnding, "bare CR in the head"))
        case .bareLF: return .refused(RequestRefusal(.badLineEnding, "line ends in a bare LF"))
        }
    }

    private static func requestLine(_ line: UnsafeRawBufferPointer) -> Result<RequestHead, RequestRefusal> {
        guard let firstSpace = line.firstIndex(of: 0x20), firstSpace > 0 else {
            return .failure(RequestRefusal(.badRequestLine, "request line has no method"))
        }
        for byte in line[0..<firstSpace] where !ByteClass.token[Int(byte)] {
            return .failure(RequestRefusal(.badRequestLine, "method is not a token"))
        }
        let targetStart = firstSpace + 1
        guard let secondSpace = line[targetStart...].firstIndex(of: 0x20), secondSpace > targetStart else {
            return .failure(RequestRefusal(.badRequestLine, "request line needs method, target and version"))
        }
        for byte in line[targetStart..<secondSpace] where byte <= 0x20 || byte >= 0x7F {
            return .failure(RequestRefusal(.badTarget, "request target holds a control, space or non-ASCII byte"))
        }
        let version = line[(secondSpace + 1)...]
        guard version.count == 8, version.starts(with: "HTTP/".utf8),
            ByteClass.isDigit(version[secondSpace + 6]), version[secondSpace + 7] == UInt8(ascii: "."),
            ByteClass.isDigit(version[secondSpace + 8])
        else {
            return .failure(RequestRefusal(.badRequestLine, "request line does not end in HTTP/x.y"))
        }
        let major = version[secondSpace + 6] - UInt8(ascii: "0")
        let minor = version[secondSpace + 8] - UInt8(ascii: "0")
        guard major == 1, minor <= 1 else {
            return .failure(RequestRefusal(.badVersion, status: 505, "only HTTP/1.0 and HTTP/1.1 are served"))
        }
        return .success(
            RequestHead(
                method: String(decoding: line[0..<firstSpace], as: UTF8.self),
                target: String(decoding: line[targetStart..<secondSpace], as: UTF8.self),
                minorVersion: Int(minor),
                fields: []
            ))
    }

    private static func field(_ line: UnsafeRawBufferPointer) -> Result<HeaderField, RequestRefusal> {
        guard let first = line.first else {
            return .failure(RequestRefusal(.badHeaderName, "empty header line"))
        }
        if first == 0x20 || first == 0x09 {
            return .failure(RequestRefusal(.obsFold, "obsolete line folding (a header line starts with whitespace)"))
        }
        var colon = 0
        while colon < line.count, ByteClass.token[Int(line[colon])] { colon += 1 }
        guard colon < line.count, line[colon] == UInt8(ascii: ":"), colon > 0 else {
            if colon < line.count, line[colon] == 0x20 || line[colon] == 0x09 {
                return .failure(RequestRefusal(.badHeaderName, "whitespace between a field name and its colon"))
            }
            return .failure(RequestRefusal(.badHeaderName, "header name is not a token followed by a colon"))
        }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        for byte in line[start..<end] where !ByteClass.fieldValue[Int(byte)] {
            return .failure(RequestRefusal(.badHeaderValue, "header value holds a control character or NUL"))
        }
        guard let value = String(validating: line[start..<end], as: UTF8.self) else {
            return .failure(RequestRefusal(.badHeaderValue, "header value is not UTF-8"))
        }
        return .success(HeaderField(name: String(decoding: line[0..<colon], as: UTF8.self), value: value))
    }

    private static func hasLineEnd(_ bytes: UnsafeRawBufferPointer, within limit: Int) -> Bool {
        bytes[0..<min(limit, bytes.count)].contains(0x0A)
    }

    private static func tooLarge(_ bytes: UnsafeRawBufferPointer, limits: HeadLimits) -> RequestRefusal {
        if !hasLineEnd(bytes, within: limits.maxRequestLine + 2) { return requestLineTooLong(limits) }
        return RequestRefusal(.headTooLarge, status: 431, "request head over \(limits.maxHeadSize) bytes")
    }

    private static func requestLineTooLong(_ limits: HeadLimits) -> RequestRefusal {
        RequestRefusal(.requestLineTooLong, status: 414, "request line over \(limits.maxRequestLine) bytes")
    }
}

/// Line ends in a head, shared by the request and response parsers.
enum HeadLine {
    enum End {
        /// The index of the line's CR.
        case at(Int)
        case incomplete
        case bareCR
        case bareLF
    }

    /// The next CRLF at or after `start`, or the bare CR or LF met first.
    static func end(in bytes: UnsafeRawBufferPointer, from start: Int) -> End {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x0D:
                guard index + 1 < bytes.count else { return .incomplete }
                return bytes[index + 1] == 0x0A ? .at(index) : .bareCR
            case 0x0A:
                return .bareLF
            default:
                index += 1
            }
        }
        return .incomplete
    }
}
