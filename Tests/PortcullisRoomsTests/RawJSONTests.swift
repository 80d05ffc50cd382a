import Testing

@testable import PortcullisRooms

@Suite struct RawJSONTests {
    @Test(
        arguments: [
            (#"{"auth":{"token":"123"}}"#, "auth", #"{"token":"123"}"#),
            (#" { "query" : {"a":"}"} , "auth" : [1, "]" ] } "#, "auth", #"[1, "]" ]"#),
            (#"{"a":1,"auth":null}"#, "auth", "null"),
            (#"{"auth":-1.5e3}"#, "auth", "-1.5e3"),
            (#"{"auth":"x\"y"}"#, "auth", #""x\"y""#),
            (#"{"\u0061uth":true}"#, "auth", "true"),
            (#"{"auth":1,"auth":2}"#, "auth", "2"),
            (#"{"x":{"auth":1}}"#, "auth", nil),
            (#"{}"#, "auth", nil),
            (#"[{"auth":1}]"#, "auth", nil),
            (#"{"auth":"#, "auth", nil),
            (#"{"auth":{"a":1}"#, "auth", nil),
            ("", "auth", nil),
        ] as [(String, String, String?)])
    func memberFindsTheRawTextOfATopLevelValue(text: String, key: String, expected: String?) {
        #expect(RawJSON.member(key, of: text) == expected)
    }

    @Test func compactDropsWhitespaceOutsideStringsOnly() {
        #expect(RawJSON.compact(" { \"a b\" : [ 1 ,\n\t\"c \\\" d\" ] } ") == #"{"a b":[1,"c \" d"]}"#)
        #expect(RawJSON.compact(#"{"token":"123"}"#) == #"{"token":"123"}"#)
    }

    @Test func quotedEscapesWhatJSONRequires() {
        #expect(RawJSON.quoted("plain") == #""plain""#)
        #expect(RawJSON.quoted("a\"b\\c/d") == #""a\"b\\c/d""#)
        #expect(RawJSON.quoted("\n\r\t\u{08}\u{0C}\u{01}\u{1F}") == #""\n\r\t\b\f\u0001\u001f""#)
        #expect(RawJSON.quoted("ünï ✓ 😀") == "\"ünï ✓ 😀\"")
    }
}
