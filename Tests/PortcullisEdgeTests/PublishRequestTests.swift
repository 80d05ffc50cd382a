import PortcullisBus
import Testing

@testable import PortcullisEdge

/// Envelope ids for the publish API's readers in tests: `id-1`, `id-2`, …
final class CountingIDs {
    private var count = 0

    func next() -> String {
        count += 1
        return "id-\(count)"
    }
}

/// A reader with counted ids and a fixed clock.
func publishReader() -> PublishRequest {
    PublishRequest(makeID: CountingIDs().next, now: 1_700_000_000_000)
}

/// The error a body is refused with, or nil when it is accepted.
func refusal<T>(_ read: () throws(PublishError) -> T) -> PublishError? {
    do throws(PublishError) {
        _ = try read()
        return nil
    } catch {
        return error
    }
}

/// `POST /publish` bodies: what becomes of each field, and every way a body is refused.
@Suite struct PublishRequestTests {
    private func messages(_ body: String) throws -> [Envelope] {
        try publishReader().messages(Array(body.utf8))
    }

    private func error(_ body: String) -> String? {
        refusal { () throws(PublishError) in try publishReader().messages(Array(body.utf8)) }?.message
    }

    @Test func oneMessageBecomesAnEmitWithItsDataAsWritten() throws {
        let envelopes = try messages(
            #"{"to": "user", "target": "42", "event": "newNotification", "data": {"id": 1, "n": 1.50}, "app": "shared", "ns": "/v1/shared"}"#
        )
        var expected = Envelope(
            id: "id-1", kind: .emit, app: "shared", namespace: "/v1/shared", target: .user("42"),
            event: "newNotification", data: .json(#"{"id": 1, "n": 1.50}"#), timestamp: 1_700_000_000_000)
        #expect(envelopes == [expected])
        expected.arguments = true
        expected.data = .json(#"["alice", {"x": true}]"#)
        expected.id = "id-1"
        let spread = try messages(
            #"{"to": "user", "target": "42", "event": "newNotification", "args": ["alice", {"x": true}], "app": "shared", "ns": "/v1/shared"}"#
        )
        #expect(spread == [expected])
    }

    @Test func anArrayPublishesEachMessageInOrder() throws {
        let envelopes = try messages(
            """
            [
              {"to": "room", "target": "lobby", "event": "said", "data": "hi", "except": "edge-1.k3v9"},
              {"to": "all", "event": "tick"},
              {"to": "conn", "target": "edge-2.abc", "event": "welcome", "data": null},
              {"kind": "join", "to": "user", "target": 42, "room": "lobby", "ns": "/chat"},
              {"kind": "leave", "to": "jti", "target": "t-1", "room": "lobby"},
              {"kind": "disconnect", "to": "user", "target": "42", "reason": "account suspended"}
            ]
            """)
        #expect(envelopes.map(\.id) == ["id-1", "id-2", "id-3", "id-4", "id-5", "id-6"])
        #expect(envelopes.map(\.kind) == [.emit, .emit, .emit, .join, .leave, .disconnect])
        #expect(
            envelopes.map(\.target) == [
                .room("lobby"), .all, .connection("edge-2.abc"), .user("42"), .token("t-1"), .user("42"),
            ])
        #expect(envelopes[0].except == "edge-1.k3v9")
        #expect(envelopes[0].data == .json(#""hi""#))
        #expect(envelopes[1].data == nil)
        #expect(envelopes[2].data == .json("null"))
        #expect(envelopes[3].room == "lobby" && envelopes[3].namespace == "/chat")
        #expect(envelopes[5].reason == "account suspended")
    }

    @Test func anEmptyArrayPublishesNothing() throws {
        #expect(try messages("[]").isEmpty)
    }

    @Test func everyRefusalNamesTheMessageAndTheField() {
        let cases: [(String, String)] = [
            ("", "body: empty"),
            ("{", "body: not valid JSON: expected '\"' at byte 1"),
            (#"{"to": "all"} x"#, "body: not valid JSON: trailing data after the value"),
            ("42", "body: expected a JSON object or an array of them, got a number"),
            ("[1]", "messages[0]: expected a JSON object, got a number"),
            (#"{"event": "x"}"#, "messages[0].to: required (one of conn, user, room, jti, all)"),
            (
                #"{"to": "usr", "target": "1"}"#,
                #"messages[0].to: expected one of conn, user, room, jti, all, got "usr""#
            ),
            (#"{"to": "user"}"#, "messages[0].target: required with to user"),
            (#"{"to": "user", "target": ""}"#, "messages[0].target: must not be empty"),
            (#"{"to": "user", "target": true}"#, "messages[0].target: expected a string, got a boolean"),
            (#"{"to": "all", "target": "x"}"#, #"messages[0].target: only with a "to" other than all"#),
            (
                #"{"to": "conn", "target": "nodot"}"#,
                #"messages[0].target: expected a connection id <edge id>.<local part>, got "nodot""#
            ),
            (
                #"{"to": "all", "except": "x"}"#,
                #"messages[0].except: expected a connection id <edge id>.<local part>, got "x""#
            ),
            (
                #"{"to": "all", "app": "no spaces"}"#,
                #"messages[0].app: expected an app name (1 to 64 of A-Z a-z 0-9 _ -), got "no spaces""#
            ),
            (
                #"{"to": "all", "evnt": "x"}"#,
                "messages[0].evnt: unknown field (known: kind, to, target, event, data, args, except, app, ns, room, reason)"
            ),
            (#"{"to": "all", "to": "user"}"#, "messages[0].to: given twice"),
            (
                #"{"to": "all", "data": 1, "args": [1]}"#,
                "messages[0].args: give data (one argument) or args (the argument list), not both"
            ),
            (
                #"{"to": "all", "args": {"a": 1}}"#,
                "messages[0].args: expected a JSON array of arguments, got an object"
            ),
            (
                #"{"to": "all", "kind": "shout"}"#,
                #"messages[0].kind: expected emit, join, leave or disconnect, got "shout""#
            ),
            (#"{"to": "all", "kind": "join"}"#, "messages[0].room: required with kind join"),
            (#"{"to": "all", "kind": "join", "room": "r", "event": "e"}"#, "messages[0].event: only with kind emit"),
            (#"{"to": "all", "room": "r"}"#, "messages[0].room: only with kind join or leave"),
            (#"{"to": "all", "reason": "r"}"#, "messages[0].reason: only with kind disconnect"),
            (#"{"to": "all", "kind": "disconnect", "data": 1}"#, "messages[0].data: only with kind emit"),
        ]
        for (body, message) in cases {
            #expect(error(body) == message, "\(body)")
        }
    }

    @Test func aBadMessageAnywhereRefusesTheWholeRequest() {
        let body = #"[{"to": "all", "event": "a"}, {"to": "all", "event": "b"}, {"to": "nobody"}]"#
        #expect(error(body) == #"messages[2].to: expected one of conn, user, room, jti, all, got "nobody""#)
    }

    @Test func moreThanAThousandMessagesAreRefused() throws {
        let one = #"{"to": "all", "event": "e"}"#
        let many = "[" + Array(repeating: one, count: 1001).joined(separator: ",") + "]"
        #expect(error(many) == "body: 1001 messages in one request, at most 1000")
        let most = "[" + Array(repeating: one, count: 1000).joined(separator: ",") + "]"
        #expect(try messages(most).count == 1000)
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        let invalid: [UInt8] = Array(#"{"to": "all", "data": ""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(
            refusal { () throws(PublishError) in try publishReader().messages(invalid) }?.message
                == "body: not valid UTF-8")
        let deep =
            #"{"to": "all", "data": "# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}"
        #expect(error(deep)?.hasPrefix("body: not valid JSON: nesting too deep") == true)
    }

    @Test func refusalsAreBadRequests() {
        let refused = refusal { () throws(PublishError) in try publishReader().messages(Array("[1]".utf8)) }
        #expect(refused?.code == .invalid)
        #expect(refused?.code.status == .badRequest)
    }
}
