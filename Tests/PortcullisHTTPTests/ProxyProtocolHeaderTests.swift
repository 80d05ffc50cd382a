import Testing

@testable import PortcullisHTTP

@Suite struct ProxyProtocolHeaderTests {
    func parse(_ bytes: [UInt8]) -> ProxyProtocolHeader.Parse {
        bytes.withUnsafeBytes { ProxyProtocolHeader.parse($0) }
    }

    @Test func aVersion1LineNamesTheClient() {
        let line = Array("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET /".utf8)
        #expect(parse(line) == .complete(length: 43, source: "203.0.113.7"))
        #expect(parse(Array("PROXY TCP6 2001:db8::7 ::1 1 2\r\n".utf8)) == .complete(length: 32, source: "2001:db8::7"))
        #expect(parse(Array("PROXY UNKNOWN\r\n".utf8)) == .complete(length: 15, source: nil))
    }

    @Test func partialHeadersWaitAndJunkIsRefused() {
        #expect(parse(Array("PROXY TCP4 1.2".utf8)) == .incomplete)
        #expect(parse(Array("PRO".utf8)) == .incomplete)
        #expect(parse(Array(ProxyProtocolHeader.v2Signature.prefix(5))) == .incomplete)
        for junk in [
            "GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
            "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "PROXY " + String(repeating: "A", count: 120),
        ] {
            guard case .invalid = parse(Array(junk.utf8)) else {
                Issue.record("accepted \(junk.debugDescription)")
                continue
            }
        }
    }

    @Test func aVersion2HeaderNamesTheClientForBothFamilies() {
        let v4: [UInt8] =
            ProxyProtocolHeader.v2Signature + [0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1, 0x1F, 0x90, 0x01, 0xBB]
        #expect(parse(v4 + [0x16]) == .complete(length: 28, source: "198.51.100.9"))
        var address = [UInt8](repeating: 0, count: 16)
        address[0] = 0x20
        address[1] = 0x01
        address[2] = 0x0D
        address[3] = 0xB8
        address[15] = 0x07
        let v6 = ProxyProtocolHeader.v2Signature + [0x21, 0x21, 0, 36] + address + [UInt8](repeating: 0, count: 20)
        #expect(parse(v6) == .complete(length: 52, source: "2001:db8::7"))
        let local = ProxyProtocolHeader.v2Signature + [0x20, 0x00, 0, 0]
        #expect(parse(local) == .complete(length: 16, source: nil))
        #expect(parse(Array(v4.prefix(20))) == .incomplete)
        for length in 0..<28 {
            #expect(parse(Array(v4.prefix(length))) == .incomplete, "a \(length)-byte prefix")
        }
    }
}
