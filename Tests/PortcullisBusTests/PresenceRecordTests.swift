import Foundation
import PortcullisBus
import Testing

/// The registry value the edge writes and presence cleanup reads, and the close ids.
@Suite struct PresenceRecordTests {
    @Test func encodesExactlyTheDocumentedJSON() {
        #expect(
            PresenceRecord(app: "echo", user: "42", namespaces: ["/chat"]).json
                == #"{"app":"echo","user":"42","ns":["/chat"]}"#)
        #expect(PresenceRecord(app: "echo").json == #"{"app":"echo","ns":[]}"#)
        #expect(
            PresenceRecord(app: "a", namespaces: ["/", "/chat"]).json == #"{"app":"a","ns":["/","/chat"]}"#)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        let record = PresenceRecord(app: "echo", user: "a\"b\\c\nd\u{01}\t\u{1F}é😀")
        #expect(record.json == #"{"app":"echo","user":"a\"b\\c\nd\u0001\t\u001fé😀","ns":[]}"#)
    }

    @Test(arguments: [
        PresenceRecord(app: "echo", user: "42", namespaces: ["/chat"]),
        PresenceRecord(app: "echo"),
        PresenceRecord(app: "shared", user: "", namespaces: ["/", "/chat", ""]),
        PresenceRecord(app: "x", user: "q\"uo\\te\r\n\u{0}\u{7F}\u{2028}", namespaces: ["{\"channel\":\"Chat\"}"]),
        PresenceRecord(app: "ünï", user: "😀", namespaces: ["/日本"]),
    ])
    func roundTrips(record: PresenceRecord) throws {
        #expect(try PresenceRecord(json: record.json) == record)
        // The output is JSON any parser accepts, not just ours.
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any])
        #expect(object["user"] as? String == record.user)
        #expect(object["ns"] as? [String] == record.namespaces)
    }

    @Test func readsLenientlyWhatANewerOrTerserEdgeMightWrite() throws {
        #expect(try PresenceRecord(json: #"{"app":"echo"}"#) == PresenceRecord(app: "echo"))
        #expect(
            try PresenceRecord(json: #" { "ns" : ["/"], "user": null, "app": "echo", "since": 17 } "#)
                == PresenceRecord(app: "echo", namespaces: ["/"]))
    }

    @Test(
        arguments: [
            ("", PresenceRecord.ParseError.Code.malformedJSON, nil),
            ("not json", .malformedJSON, nil),
            (#"{"app":"echo""#, .malformedJSON, nil),
            (#"["echo"]"#, .malformedJSON, nil),
            (#""echo""#, .malformedJSON, nil),
            (#"{"user":"42","ns":[]}"#, .missingField, "app"),
            (#"{"app":null}"#, .missingField, "app"),
            (#"{"app":""}"#, .invalidValue, "app"),
            (#"{"app":7}"#, .invalidValue, "app"),
            (#"{"app":"echo","user":42}"#, .invalidValue, "user"),
            (#"{"app":"echo","user":true}"#, .invalidValue, "user"),
            (#"{"app":"echo","ns":"/chat"}"#, .invalidValue, "ns"),
            (#"{"app":"echo","ns":["/chat",1]}"#, .invalidValue, "ns"),
        ] as [(String, PresenceRecord.ParseError.Code, String?)])
    func badValuesThrowATypedError(json: String, code: PresenceRecord.ParseError.Code, field: String?) {
        let error = #expect(throws: PresenceRecord.ParseError.self) { try PresenceRecord(json: json) }
        #expect(error?.code == code)
        #expect(error?.field == field)
        #expect(error.map { !"\($0)".contains("42") } ?? false, "messages never quote the record")
    }

    @Test func closeIDsAreDeterministicAndFitTheEnvelopeLimit() {
        #expect(EdgePresence.closeEnvelopeID(connection: "edge-1.k3v9q2x8m1", index: 0) == "close:edge-1.k3v9q2x8m1:0")
        #expect(EdgePresence.closeEnvelopeID(connection: "edge-1.k3v9q2x8m1", index: 2) == "close:edge-1.k3v9q2x8m1:2")

        let long = "edge-1." + String(repeating: "x", count: 300)
        let longID = EdgePresence.closeEnvelopeID(connection: long, index: 1)
        #expect(longID.utf8.count <= Envelope.maximumIDLength)
        #expect(longID.hasPrefix("close:~") && longID.hasSuffix(":1"))
        #expect(longID == EdgePresence.closeEnvelopeID(connection: long, index: 1))
        #expect(longID != EdgePresence.closeEnvelopeID(connection: long + "y", index: 1))
        #expect(longID != EdgePresence.closeEnvelopeID(connection: long, index: 0))
        // The longest plain id still fits as it is.
        let fits = "e." + String(repeating: "y", count: Envelope.maximumIDLength - 10)
        #expect(EdgePresence.closeEnvelopeID(connection: fits, index: 0) == "close:\(fits):0")
    }
}
