import Testing

@testable import PortcullisHTTP

/// Parses `text` as a whole head, scan first, as the edge's decoder does.
func parseHead(_ text: String, limits: HeadLimits = HeadLimits()) -> Result<RequestHead, RequestRefusal> {
    Array(text.utf8).withUnsafeBytes { bytes in
        switch RequestHeadParser.scan(bytes, from: 0, limits: limits) {
        case .refused(let refusal): return .failure(refusal)
        case .incomplete: return .failure(RequestRefusal(.badRequestLine, "incomplete"))
        case .complete(let length):
            return RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), limits: limits)
        }
    }
}

func refusalCode(_ result: Result<RequestHead, RequestRefusal>) -> String? {
    if case .failure(let refusal) = result { return refusal.code.description }
    return nil
}

@Suite struct RequestHeadParserTests {
    @Test func aPlainHeadParsesIntoMethodTargetVersionAndTrimmedFields() throws {
        let head = try parseHead("GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nX-A:  v  \r\n\r\n").get()
        #expect(head.method == "GET")
        #expect(head.target == "/a?b=1")
        #expect(head.minorVersion == 1)
        #expect(head.fields == [HeaderField(name: "Host", value: "x.test"), HeaderField(name: "X-A", value: "v")])
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n X-Folded: b\r\n\r\n", "obs_fold"),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "bad_header_name"),
        ("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", "bad_header_name"),
        ("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "bad_line_ending"),
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", "bad_line_ending"),
        ("GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", "bad_header_value"),
        ("GET / HTTP/1.1\r\nHost: a\u{1}b\r\n\r\n", "bad_header_value"),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "bad_request_line"),
        ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "bad_request_line"),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "bad_request_line"),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", "bad_version"),
        ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", "bad_version"),
        ("GET / http/1.1\r\nHost: a\r\n\r\n", "bad_request_line"),
        ("GET /\u{7f} HTTP/1.1\r\nHost: a\r\n\r\n", "bad_target"),
        (":a GET / HTTP/1.1\r\nHost: a\r\n\r\n", "bad_request_line"),
    ])
    func malformedHeadsAreRefusedWithTheirReason(head: String, code: String) {
        #expect(refusalCode(parseHead(head)) == code)
    }

    @Test func aLongRequestLineIs414AndALargeHeadIs431() {
        let limits = HeadLimits(maxRequestLine: 64, maxHeadSize: 256, maxFields: 4)
        let longLine = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseHead(longLine, limits: limits).failureStatus == 414)
        let bigHead = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 300) + "\r\n\r\n"
        #expect(parseHead(bigHead, limits: limits).failureStatus == 431)
        let manyFields = "GET / HTTP/1.1\r\n" + (0..<5).map { "X\($0): v\r\n" }.joined() + "\r\n"
        #expect(refusalCode(parseHead(manyFields, limits: limits)) == "too_many_headers")
    }

    @Test func aRequestLineOverTheLimitIsRefusedBeforeItsEndArrives() {
        let limits = HeadLimits(maxRequestLine: 64, maxHeadSize: 4096, maxFields: 4)
        let partial = Array(("GET /" + String(repeating: "a", count: 200)).utf8)
        let scan = partial.withUnsafeBytes { RequestHeadParser.scan($0, from: 0, limits: limits) }
        guard case .refused(let refusal) = scan else {
            Issue.record("expected a refusal, got \(scan)")
            return
        }
        #expect(refusal.status == 414)
    }

    @Test func anIncompleteHeadAsksForMoreAndResumesWhereItStopped() {
        let limits = HeadLimits()
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\n\r".utf8)
        let first = bytes.withUnsafeBytes { RequestHeadParser.scan($0, from: 0, limits: limits) }
        guard case .incomplete(let resume) = first else {
            Issue.record("expected incomplete, got \(first)")
            return
        }
        let more = bytes + [0x0A]
        let second = more.withUnsafeBytes { RequestHeadParser.scan($0, from: resume, limits: limits) }
        #expect(second == .complete(length: more.count))
    }
}

extension Result where Failure == RequestRefusal {
    var failureStatus: Int? {
        if case .failure(let refusal) = self { return refusal.status }
        return nil
    }
}
