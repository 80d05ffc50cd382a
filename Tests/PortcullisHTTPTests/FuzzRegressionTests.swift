import Testing

@testable import PortcullisHTTP

/// Bugs the `portcullis-fuzz` target found (docs/fuzzing.md), one test each, so they stay
/// fixed without running the fuzzer.
@Suite struct FuzzRegressionTests {
    static let limits = HeadLimits(maxRequestLine: 64, maxHeadSize: 256, maxFields: 4)

    /// The scanner let a head one byte over `maxHeadSize` through as complete. Fuzzer
    /// input (hex): `feff` selector bytes (maxHeadSize 48), then a 49-byte head ending in
    /// `0d0a0d0a`.
    @Test func aHeadOneByteOverMaxHeadSizeIs431() {
        #expect(scan(head(length: 256)) == .complete(length: 256))
        guard case .refused(let refusal) = scan(head(length: 257)) else {
            Issue.record("a 257-byte head passed maxHeadSize 256")
            return
        }
        #expect(refusal.status == 431)
    }

    /// Read a byte at a time, a head at the limit still completes, and one over it is
    /// refused as soon as `maxHeadSize` bytes hold no end, as a one-shot read would be.
    @Test(arguments: [(256, "complete at 256"), (257, "431 at 256")])
    func aGrowingHeadIsJudgedAsAWholeOneIs(length: Int, outcome: String) {
        let bytes = Array(head(length: length).utf8)
        var resume = 0
        for count in 1...bytes.count {
            let result = bytes[0..<count].withUnsafeBytes {
                RequestHeadParser.scan($0, from: resume, limits: Self.limits)
            }
            switch result {
            case .incomplete(let next):
                resume = next
            case .complete(let length):
                #expect(outcome == "complete at \(length)" && count == length)
                return
            case .refused(let refusal):
                #expect(outcome == "\(refusal.status) at \(count)")
                return
            }
        }
        Issue.record("a \(length)-byte head never completed")
    }

    /// `%00` is refused in the query as in the path: the query is forwarded as sent, and
    /// a backend in C stops reading a parameter at the NUL. Fuzzer input: `/?%0cb//%00`.
    @Test(arguments: ["/?%0cb//%00", "/a?x=%00", "/a?x=1&y=ab%00cd"])
    func anEncodedNulInTheQueryIsRefused(target: String) {
        for mergeSlashes in [true, false] {
            guard case .failure(let refusal) = PathNormalizer.normalize(target, mergeSlashes: mergeSlashes) else {
                Issue.record("\(target) was accepted")
                continue
            }
            #expect(refusal.code == .encodedNul)
        }
    }

    @Test func aQueryWithOtherEscapesIsStillForwardedAsSent() throws {
        #expect(try PathNormalizer.normalize("/a?x=%20%2f%0A&y=%0", mergeSlashes: true).get() == "/a?x=%20%2f%0A&y=%0")
    }

    /// `Transfer-Encoding: chun\u{212A}ed` (a KELVIN SIGN for the `k`) passed as chunked:
    /// the codings were lower-cased the Unicode way before the token check, while a proxy
    /// in front of the edge reads those bytes as an unknown coding. Found by the harness's
    /// byte-wise framing invariant (input: the head below after the selector bytes `@#`).
    @Test(arguments: ["chun\u{212A}ed", "CHUN\u{212A}ED", "chunked, chun\u{212A}ed"])
    func aCodingThatIsChunkedOnlyInUnicodeIsRefused(coding: String) {
        let result = validate("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(coding)\r\n\r\n")
        #expect(code(result) == "unsupported_transfer_coding")
    }

    @Test func chunkedInAnyASCIICaseIsStillChunked() throws {
        let request = try validate("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n").get()
        #expect(request.framing == .chunked)
    }

    /// A valid head of exactly `length` bytes.
    private func head(length: Int) -> String {
        let start = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        let end = "\r\n\r\n"
        return start + String(repeating: "b", count: length - start.utf8.count - end.utf8.count) + end
    }

    private func scan(_ text: String) -> RequestHeadParser.Scan {
        Array(text.utf8).withUnsafeBytes { RequestHeadParser.scan($0, from: 0, limits: Self.limits) }
    }
}
