import PortcullisHTTP

/// Invariants of ``RequestHeadParser`` and ``RequestValidator``.
///
/// Beyond "does not crash": streaming and one-shot scans agree, a delimited head stays
/// within the limits, what parses re-serialises to bytes that parse back to the same
/// head (the edge forwards its own serialisation, so a difference would be a request
/// the backend reads differently), and a validated request is canonical: it meets the
/// promises of ``ValidatedRequest`` and validating it again changes nothing.
enum HeadChecks {
    /// Limits no re-serialised head of a fuzzer-sized input reaches.
    static let roomy = HeadLimits(maxRequestLine: 1 << 20, maxHeadSize: 1 << 22, maxFields: 1 << 16)

    struct Stream {
        /// Where the head starts: after the empty lines the decoder skips.
        let start: Int
        let scan: RequestHeadParser.Scan
    }

    /// Scans `payload` as it arrives in `reads`, resuming where each scan asked, exactly
    /// as the edge's `ClientRequestDecoder` does (empty lines before the request line are
    /// skipped while the scan is at its start). Checks that the result equals a one-shot
    /// scan of the same bytes.
    static func scanStreaming(_ payload: UnsafeRawBufferPointer, limits: HeadLimits, reads: [Int]) -> Stream {
        var start = 0
        var delivered = 0
        var scanFrom = 0
        var result = RequestHeadParser.Scan.incomplete(resumeAt: 0)
        for length in reads {
            delivered += length
            if scanFrom == 0 { start = skipEmptyLines(payload, from: start, to: delivered) }
            guard delivered > start else { continue }
            let window = UnsafeRawBufferPointer(rebasing: payload[start..<delivered])
            result = RequestHeadParser.scan(window, from: scanFrom, limits: limits)
            checkScan(result, window: window, from: scanFrom, limits: limits)
            guard case .incomplete(let resumeAt) = result else { break }
            scanFrom = resumeAt
        }
        let oneShotStart = skipEmptyLines(payload, from: 0, to: delivered)
        precondition(oneShotStart == start, "streaming skipped other empty lines than a one-shot read")
        if delivered > start {
            let oneShot = RequestHeadParser.scan(
                UnsafeRawBufferPointer(rebasing: payload[start..<delivered]), from: 0, limits: limits)
            switch (oneShot, result) {
            case (.incomplete, .incomplete): break
            default: precondition(oneShot == result, "streaming scan \(result) but one-shot scan \(oneShot)")
            }
        }
        return Stream(start: start, scan: result)
    }

    /// Parses the head at the start of `bytes` (`headLength` long, as scanned); returns
    /// it when it parsed.
    static func parse(_ bytes: UnsafeRawBufferPointer, headLength: Int, limits: HeadLimits) -> RequestHead? {
        let result = RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<headLength]), limits: limits)
        precondition(
            RequestHeadParser.parse(bytes, limits: limits) == result, "bytes after the head changed how it parsed")
        guard case .success(let head) = result else { return nil }
        checkHead(head, limits: limits)
        return head
    }

    /// The parser is public and also reads trailer sections: it must survive any bytes,
    /// not only heads the scanner delimited.
    static func parseAnything(_ bytes: UnsafeRawBufferPointer, limits: HeadLimits) {
        if case .success(let head) = RequestHeadParser.parse(bytes, limits: limits) {
            checkSyntax(head, limits: limits)
        }
        _ = RequestHeadParser.fields(bytes, maxFields: limits.maxFields)
    }

    /// Validates `head`; returns the request when accepted, after checking it.
    static func validate(_ head: RequestHead, policy: RequestPolicy) -> ValidatedRequest? {
        guard case .success(let request) = RequestValidator.validate(head, policy: policy) else { return nil }
        checkValidated(request, head: head, policy: policy)
        let again = reparse(
            RequestHead(
                method: request.method, target: request.target, minorVersion: request.minorVersion,
                fields: request.fields))
        precondition(
            RequestValidator.validate(again, policy: policy) == .success(request),
            "validating a validated request changed it")
        return request
    }

    // MARK: Pieces

    private static func skipEmptyLines(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var index = start
        while end - index >= 2, bytes[index] == 0x0D, bytes[index + 1] == 0x0A { index += 2 }
        return index
    }

    private static func checkScan(
        _ scan: RequestHeadParser.Scan, window: UnsafeRawBufferPointer, from: Int, limits: HeadLimits
    ) {
        switch scan {
        case .complete(let length):
            precondition(length >= 4 && length <= window.count, "head length \(length) outside the buffer")
            precondition(
                window[length - 4] == 0x0D && window[length - 3] == 0x0A && window[length - 2] == 0x0D
                    && window[length - 1] == 0x0A, "a head must end in CRLF CRLF")
            precondition(length <= limits.maxHeadSize, "a \(length)-byte head passed maxHeadSize \(limits.maxHeadSize)")
        case .incomplete(let resumeAt):
            precondition(resumeAt >= min(from, window.count) && resumeAt <= window.count, "resume point went astray")
            precondition(window.count <= limits.maxHeadSize, "buffered past maxHeadSize without refusing")
        case .refused(let refusal):
            precondition([400, 414, 431].contains(refusal.status), "unexpected scan status \(refusal.status)")
        }
    }

    private static func checkHead(_ head: RequestHead, limits: HeadLimits) {
        checkSyntax(head, limits: limits)
        precondition(
            head.method.utf8.count + head.target.utf8.count + 10 <= limits.maxRequestLine,
            "a request line over maxRequestLine parsed")
        precondition(reparse(head) == head, "a parsed head re-serialises to a different head")
    }

    private static func checkSyntax(_ head: RequestHead, limits: HeadLimits) {
        precondition(!head.method.isEmpty && !head.target.isEmpty, "empty method or target")
        precondition(head.minorVersion == 0 || head.minorVersion == 1, "version outside HTTP/1.0 and 1.1")
        precondition(head.fields.count <= limits.maxFields, "more than maxFields fields")
        precondition(head.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "target holds a space or control")
        for field in head.fields {
            precondition(!field.name.isEmpty, "empty field name")
            precondition(
                field.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") },
                "field name is not a token")
            precondition(
                field.value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) },
                "field value holds a control character")
            precondition(
                field.value.utf8.first.map { $0 != 0x20 && $0 != 0x09 } ?? true
                    && field.value.utf8.last.map { $0 != 0x20 && $0 != 0x09 } ?? true,
                "field value keeps surrounding whitespace")
        }
    }

    private static func checkValidated(_ request: ValidatedRequest, head: RequestHead, policy: RequestPolicy) {
        precondition(request.method == head.method && request.minorVersion == head.minorVersion)
        precondition(request.method != "CONNECT" && request.method != "TRACE", "CONNECT or TRACE accepted")
        precondition(
            request.target == "*" ? request.method == "OPTIONS" : request.target.utf8.first == UInt8(ascii: "/"),
            "validated target \(request.target) is neither * for OPTIONS nor a path")
        if request.target != "*" {
            precondition(
                PathNormalizer.normalize(request.target, mergeSlashes: policy.mergeSlashes) == .success(request.target),
                "validated target is not normalized")
        }
        let hosts = request.fields.filter { $0.hasName("host") }
        precondition(hosts.count == 1 && hosts[0].value == request.host, "validated fields need exactly one Host")
        precondition(HostSyntax.check(request.host) == nil, "validated host \(request.host) is invalid")
        let lengths = request.fields.filter { $0.hasName("content-length") }
        let codings = request.fields.filter { $0.hasName("transfer-encoding") }
        precondition(lengths.isEmpty || codings.isEmpty, "validated request has Content-Length and Transfer-Encoding")
        // The framing must be what a byte-wise reading of the client's own fields gives:
        // a backend or a proxy in front of the edge reads those bytes, not Swift strings.
        let sentLengths = head.fields.filter { $0.hasName("content-length") }.map(\.value)
        let sentCodings = head.fields.filter { $0.hasName("transfer-encoding") }.flatMap { codingBytes($0.value) }
        switch request.framing {
        case .none:
            precondition(lengths.isEmpty && codings.isEmpty, "body framing fields on a body-less request")
            precondition(sentLengths.isEmpty && sentCodings.isEmpty, "a body the client framed was ignored")
        case .length(let length):
            precondition(length >= 0 && lengths.map(\.value) == [String(length)] && codings.isEmpty)
            precondition(
                sentLengths.count == 1 && sentLengths[0].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                    && Int(sentLengths[0]) == length && sentCodings.isEmpty,
                "Content-Length \(length) is not what the client sent")
        case .chunked:
            precondition(codings.map(\.value) == ["chunked"] && lengths.isEmpty && request.minorVersion == 1)
            precondition(sentCodings == ["chunked"] && sentLengths.isEmpty, "chunked framing from \(sentCodings)")
        }
        if policy.underscoreHeaders != .keep {
            precondition(!request.fields.contains { $0.name.contains("_") }, "underscore header survived the policy")
        }
        if request.upgrade {
            precondition(request.framing == .none || request.framing == .length(0), "upgrade with a body")
        }
        if request.expectContinue {
            precondition(request.framing != .none && request.minorVersion == 1, "100-continue without a body")
        }
    }

    /// The codings of a `Transfer-Encoding` value read byte by byte: split on commas,
    /// without surrounding spaces and tabs, ASCII letters lower-cased (HTTP tokens compare
    /// case-insensitively in ASCII only).
    private static func codingBytes(_ value: String) -> [String] {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        return Array(value.utf8).split(separator: UInt8(ascii: ",")).compactMap { element in
            let start = element.drop(while: isSpace)
            guard let last = start.lastIndex(where: { !isSpace($0) }) else { return nil }
            return String(decoding: start[...last].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
    }

    private static func serialise(_ head: RequestHead) -> [UInt8] {
        var text = "\(head.method) \(head.target) HTTP/1.\(head.minorVersion)\r\n"
        for field in head.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// `head` serialised as the edge forwards it, then scanned and parsed again.
    private static func reparse(_ head: RequestHead) -> RequestHead {
        let bytes = serialise(head)
        return bytes.withUnsafeBytes { buffer in
            precondition(
                RequestHeadParser.scan(buffer, from: 0, limits: roomy) == .complete(length: buffer.count),
                "a re-serialised head does not scan as one head")
            switch RequestHeadParser.parse(buffer, limits: roomy) {
            case .success(let parsed): return parsed
            case .failure(let refusal): preconditionFailure("a re-serialised head is refused: \(refusal)")
            }
        }
    }
}
