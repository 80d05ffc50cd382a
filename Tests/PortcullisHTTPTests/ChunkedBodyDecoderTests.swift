import Testing

@testable import PortcullisHTTP

/// Feeds `text` to a decoder in pieces of `step` bytes; returns the body and trailers,
/// or the refusal.
func decodeChunked(_ text: String, step: Int = 1_000_000) -> Result<(String, [HeaderField]), RequestRefusal> {
    var decoder = ChunkedBodyDecoder(maxLineLength: 64, maxTrailerSize: 256, maxTrailerFields: 4)
    let bytes = Array(text.utf8)
    var body: [UInt8] = []
    var pending: [UInt8] = []
    var offset = 0
    while offset < bytes.count || !pending.isEmpty {
        if offset < bytes.count {
            let end = min(offset + step, bytes.count)
            pending += bytes[offset..<end]
            offset = end
        }
        var progressed = true
        while progressed && !pending.isEmpty {
            let (consumed, result) = pending.withUnsafeBytes { decoder.decode($0) }
            switch result {
            case .data(let start, let count): body += pending[start..<(start + count)]
            case .needMore: progressed = false
            case .end(let trailers): return .success((String(decoding: body, as: UTF8.self), trailers))
            case .refused(let refusal): return .failure(refusal)
            }
            pending.removeFirst(consumed)
        }
        if offset >= bytes.count { break }
    }
    return .failure(RequestRefusal(.badChunk, "incomplete"))
}

@Suite struct ChunkedBodyDecoderTests {
    @Test(arguments: [1, 2, 3, 1000])
    func aChunkedBodyDecodesWhateverTheReadSizes(step: Int) throws {
        let text = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Sum: 1\r\n\r\n"
        let (body, trailers) = try decodeChunked(text, step: step).get()
        #expect(body == "hello, world")
        #expect(trailers == [HeaderField(name: "X-Sum", value: "1")])
    }

    @Test(arguments: [
        ("g\r\nx\r\n0\r\n\r\n", "bad_chunk"),
        ("5\r\nhelloX\r\n0\r\n\r\n", "bad_chunk"),
        ("5\nhello\r\n0\r\n\r\n", "bad_chunk"),
        ("5\r\nhello\n0\r\n\r\n", "bad_chunk"),
        ("-5\r\nhello\r\n0\r\n\r\n", "bad_chunk"),
        ("ffffffffffffffffff\r\n", "bad_chunk"),
        ("5;" + String(repeating: "e", count: 100) + "\r\nhello\r\n0\r\n\r\n", "bad_chunk"),
        ("5;a\u{1}\r\nhello\r\n0\r\n\r\n", "bad_chunk"),
        ("0\r\nContent-Length: 5\r\n\r\n", "bad_trailer"),
        ("0\r\nTransfer-Encoding: chunked\r\n\r\n", "bad_trailer"),
        ("0\r\nX: " + String(repeating: "v", count: 300) + "\r\n\r\n", "bad_trailer"),
        ("0\r\n X: folded\r\n\r\n", "bad_trailer"),
        ("0\r\nX: a\n\r\n", "bad_trailer"),
    ])
    func brokenChunksAndTrailersAreRefused(text: String, expected: String) {
        guard case .failure(let refusal) = decodeChunked(text) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(refusal.code.description == expected)
    }

    @Test func bytesAfterTheLastChunkAreLeftForTheNextRequest() {
        var decoder = ChunkedBodyDecoder()
        let bytes = Array("0\r\n\r\nGET / HTTP/1.1\r\n".utf8)
        let (consumed, step) = bytes.withUnsafeBytes { decoder.decode($0) }
        #expect(step == .end(trailers: []))
        #expect(consumed == 5)
    }
}
