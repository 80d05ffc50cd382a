import Testing

@testable import PortcullisHTTP

@Suite struct ResponseFramingTests {
    @Test func ambiguousResponseFramingIsAProblem() {
        func problem(_ fields: [(String, String)], status: Int = 200) -> String? {
            ResponseFraming.problem(in: fields.map { (name: $0.0, value: $0.1) }, status: status)
        }
        #expect(problem([("Content-Length", "5")]) == nil)
        #expect(problem([("Transfer-Encoding", "chunked")]) == nil)
        #expect(problem([]) == nil)
        #expect(problem([("Content-Length", "5"), ("Transfer-Encoding", "chunked")]) != nil)
        #expect(problem([("Content-Length", "5"), ("content-length", "6")]) != nil)
        #expect(problem([("Content-Length", "5"), ("content-length", "5")]) != nil)
        #expect(problem([("Content-Length", "-5")]) != nil)
        #expect(problem([("Transfer-Encoding", "gzip")]) != nil)
        #expect(problem([("Transfer-Encoding", "chunked, chunked")]) != nil)
        #expect(problem([("Transfer-Encoding", "chun\u{212A}ed")]) != nil, "a KELVIN SIGN is no k")
        #expect(problem([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], status: 304) == nil)
    }
}
