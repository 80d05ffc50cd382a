import Testing

@testable import PortcullisAuth

@Suite struct JSONAndBase64Tests {
    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,}"#, "[1,]", "01", "1.", ".5", "+1", "NaN", #""\x""#, #""\ud800""#, #""\udc00x""#,
        "\"tab\there\"", "{\"a\":1} x", "", "tru",
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func invalidJSONIsRejected(text: String) {
        #expect(JSONValue.parse(text) == nil)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) == nil)  // UTF-8 encoded surrogate
        #expect(JSONValue.parse([0x22, 0xC0, 0xAF, 0x22]) == nil)  // overlong "/"
        #expect(JSONValue.parse([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]) == .string("😀"))
    }

    @Test func valuesParseAndSerialiseCompactly() {
        let text = #" { "s" : "a\"b\\c\u0001\n" , "n" : -1.5E+3 , "t" : true , "z" : null , "a" : [ 1 , { } , [ ] ] } "#
        let value = JSONValue.parse(text)
        #expect(value?.serialized() == #"{"s":"a\"b\\c\u0001\n","n":-1.5E+3,"t":true,"z":null,"a":[1,{},[]]}"#)
        #expect(value?.objectValue?["n"]?.doubleValue == -1500)
        #expect(JSONValue.parse(#"{"a":{"b":{"c":7}}}"#)?.objectValue?.value(atPath: "a.b.c") == .number("7"))
    }

    @Test func base64urlDecodingIsStrictAndCanonical() {
        #expect(Base64.urlDecoded("") == [])
        #expect(Base64.urlDecoded("YQ") == Array("a".utf8))
        #expect(Base64.urlDecoded("YWI") == Array("ab".utf8))
        #expect(Base64.urlDecoded("-_8") == [0xFB, 0xFF])
        #expect(Base64.urlDecoded("YR") == nil)  // non-zero trailing bits
        #expect(Base64.urlDecoded("YQ==") == nil)
        #expect(Base64.urlDecoded("Y") == nil)
        #expect(Base64.urlDecoded("+/8") == nil)
        #expect(Base64.urlDecoded("YW I") == nil)
        for length in 0..<40 {
            let bytes = SecureRandom.bytes(length)
            #expect(Base64.urlDecoded(Base64.urlEncoded(bytes)) == bytes)
        }
        #expect(Base64.standardEncodedWithoutPadding([0xFB, 0xFF]) == "+/8")
    }

    @Test func percentDecodingFollowsDecodeURIComponent() {
        #expect(PercentDecoding.decode("s%3Aa%2Fb") == "s:a/b")
        #expect(PercentDecoding.decode("caf%C3%A9") == "café")
        #expect(PercentDecoding.decode("a+b") == "a+b")
        #expect(PercentDecoding.decode("a+b", plusAsSpace: true) == "a b")
        #expect(PercentDecoding.decode("%E0%A4%A") == nil)
        #expect(PercentDecoding.decode("%C3") == nil)
        #expect(PercentDecoding.encodeComponent("s:a/b+c é") == "s%3Aa%2Fb%2Bc%20%C3%A9")
    }
}
