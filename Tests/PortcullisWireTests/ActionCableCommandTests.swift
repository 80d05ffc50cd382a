import PortcullisWire
import Testing

/// Frames recorded from Rails' JS client (`@rails/actioncable` 6.1.7, Debian's
/// `ruby-actioncable`), driven in Node with a fake WebSocket that logs each `send`:
/// `subscriptions.create(…)`, `perform(…)`, `send(…)`, `unsubscribe()`.
enum RecordedClientFrames {
    static let subscribe = #"{"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"}"#
    static let performSpeak =
        #"{"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"{\"body\":\"hi\",\"action\":\"speak\"}"}"#
    static let sendWithoutAction =
        #"{"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"{\"body\":\"no action\"}"}"#
    static let performWithoutData =
        #"{"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"{\"action\":\"speak\"}"}"#
    static let unsubscribe = #"{"command":"unsubscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"}"#
    /// `subscriptions.create("NotificationChannel")`: the string shorthand.
    static let subscribeByName = #"{"command":"subscribe","identifier":"{\"channel\":\"NotificationChannel\"}"}"#
    /// The Circle seed's params: a number, as its `COMMUNITY_MEMBER_ID` is.
    static let subscribeWithNumber =
        #"{"command":"subscribe","identifier":"{\"channel\":\"ChatRoomChannel\",\"community_member_id\":42}"}"#
    /// Params `{room: "a\"b\\c/d\n<&>", who: "Zoë 🎉", "\u2028": "\u0001"}`: `JSON.stringify`
    /// writes U+2028 raw and escapes the control character, twice over.
    static let subscribeWithEscapes =
        #"{"command":"subscribe","identifier":"{\"channel\":\"Chats::RoomChannel\",\"room\":\"a\\\"b\\\\c/d\\n<&>\",\"who\":\"Zoë 🎉\",\"\#u{2028}\":\"\\u0001\"}"}"#
    static let performWithUnicode =
        #"{"command":"message","identifier":"{\"channel\":\"Chats::RoomChannel\",\"room\":\"a\\\"b\\\\c/d\\n<&>\",\"who\":\"Zoë 🎉\",\"\#u{2028}\":\"\\u0001\"}","data":"{\"text\":\"é\#u{2028}\",\"action\":\"speak\"}"}"#

    static let chatIdentifierToken = #""{\"channel\":\"ChatChannel\",\"room\":\"1\"}""#
    static let chatIdentifier = #"{"channel":"ChatChannel","room":"1"}"#
    static let escapedIdentifierToken =
        #""{\"channel\":\"Chats::RoomChannel\",\"room\":\"a\\\"b\\\\c/d\\n<&>\",\"who\":\"Zoë 🎉\",\"\#u{2028}\":\"\\u0001\"}""#
    static let escapedIdentifier =
        #"{"channel":"Chats::RoomChannel","room":"a\"b\\c/d\n<&>","who":"Zoë 🎉","\#u{2028}":"\u0001"}"#
}

@Suite struct ActionCableCommandTests {
    typealias Frames = RecordedClientFrames

    func decode(_ text: String) throws -> ActionCableCommand {
        try ActionCableCommand(decoding: text)
    }

    func failure(_ text: String) -> ActionCableCommandError? {
        do {
            _ = try ActionCableCommand(decoding: text)
            return nil
        } catch {
            return error
        }
    }

    @Test func railsClientSubscribeKeepsTheIdentifierTokenAndFindsItsChannel() throws {
        guard case .subscribe(let identifier) = try self.decode(Frames.subscribe) else {
            Issue.record("expected subscribe")
            return
        }
        #expect(identifier.jsonToken == Frames.chatIdentifierToken)
        #expect(identifier.string == Frames.chatIdentifier)
        #expect(identifier.channel == "ChatChannel")
        #expect(identifier.paramsJSON == Frames.chatIdentifier)
    }

    @Test func railsClientPerformCarriesTheActionAndTheDataTextAsSent() throws {
        let command = try self.decode(Frames.performSpeak)
        guard case .message(let identifier, let action, let data) = command else {
            Issue.record("expected message")
            return
        }
        #expect(identifier.string == Frames.chatIdentifier)
        #expect(action == "speak")
        #expect(data == #"{"body":"hi","action":"speak"}"#)
        #expect(command.identifier == identifier)
    }

    @Test func railsClientSendWithoutActionGoesToReceive() throws {
        #expect(
            try self.decode(Frames.sendWithoutAction)
                == .message(
                    try self.chatIdentifier(), action: nil, data: #"{"body":"no action"}"#))
    }

    @Test func railsClientPerformWithoutArgumentsSendsOnlyTheAction() throws {
        #expect(
            try self.decode(Frames.performWithoutData)
                == .message(try self.chatIdentifier(), action: "speak", data: #"{"action":"speak"}"#))
    }

    @Test func railsClientUnsubscribeNamesTheSameIdentifier() throws {
        #expect(try self.decode(Frames.unsubscribe) == .unsubscribe(try self.chatIdentifier()))
    }

    @Test func channelNameShorthandSubscribesWithTheChannelAlone() throws {
        let identifier = try self.decode(Frames.subscribeByName).identifier
        #expect(identifier.channel == "NotificationChannel")
        #expect(identifier.paramsJSON == #"{"channel":"NotificationChannel"}"#)
    }

    @Test func numericParamsStayAsTheClientWroteThem() throws {
        let identifier = try self.decode(Frames.subscribeWithNumber).identifier
        #expect(identifier.channel == "ChatRoomChannel")
        #expect(identifier.paramsJSON == #"{"channel":"ChatRoomChannel","community_member_id":42}"#)
    }

    @Test func identifierWithEscapesAndUnicodeIsKeptByteForByte() throws {
        let identifier = try self.decode(Frames.subscribeWithEscapes).identifier
        #expect(identifier.jsonToken == Frames.escapedIdentifierToken)
        #expect(Array(identifier.jsonToken.utf8) == Array(Frames.escapedIdentifierToken.utf8))
        #expect(identifier.string == Frames.escapedIdentifier)
        #expect(identifier.channel == "Chats::RoomChannel")
    }

    @Test func messageDataWithUnicodeIsHandedOnAsSent() throws {
        let command = try self.decode(Frames.performWithUnicode)
        #expect(command.identifier.jsonToken == Frames.escapedIdentifierToken)
        guard case .message(_, let action, let data) = command else {
            Issue.record("expected message")
            return
        }
        #expect(action == "speak")
        #expect(data == "{\"text\":\"é\u{2028}\",\"action\":\"speak\"}")
    }

    @Test func handWrittenEscapesInTheIdentifierAreKeptAsSpelled() throws {
        let token = #""{\"channel\":\"Chat\u0043hannel\",\"path\":\"a\/b\"}""#
        let identifier = try self.decode(#"{"command":"subscribe","identifier":"# + token + "}").identifier
        #expect(identifier.jsonToken == token)
        #expect(identifier.string == #"{"channel":"ChatChannel","path":"a/b"}"#)
        #expect(identifier.channel == "ChatChannel")
    }

    @Test func memberOrderWhitespaceAndUnknownMembersDoNotMatter() throws {
        let text =
            #" { "v" : [1, {"x": null}] , "identifier" : "{ \"room\" : 1, \"channel\" : \"ChatChannel\" }" ,"command":"subscribe" } "#
        let identifier = try self.decode(text).identifier
        #expect(identifier.jsonToken == #""{ \"room\" : 1, \"channel\" : \"ChatChannel\" }""#)
        #expect(identifier.channel == "ChatChannel")
    }

    @Test(arguments: [#"\"\""#, #"\"  \""#, "null"])
    func blankOrNullActionGoesToReceive(_ action: String) throws {
        let data = #"{\"action\":"# + action + #",\"body\":1}"#
        let text =
            #"{"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":""# + data + "\"}"
        guard case .message(_, let decoded, _) = try self.decode(text) else {
            Issue.record("expected message")
            return
        }
        #expect(decoded == nil)
    }

    @Test func dataIsNotReadForSubscribe() throws {
        let text = #"{"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":7}"#
        #expect(try self.decode(text) == .subscribe(try self.chatIdentifier()))
    }

    @Test(arguments: [
        // Not one JSON object.
        ("", ActionCableCommandError.Code.malformedFrame),
        ("not json", .malformedFrame),
        ("[]", .malformedFrame),
        ("42", .malformedFrame),
        (#""subscribe""#, .malformedFrame),
        ("{", .malformedFrame),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"A\"}"} x"#, .malformedFrame),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"A\"}",}"#, .malformedFrame),
        (#"{"command":"subscribe","command":"subscribe","identifier":"{\"channel\":\"A\"}"}"#, .malformedFrame),
        (
            #"{"command":"subscribe","identifier":"{\"channel\":\"A\"}","identifier":"{\"channel\":\"B\"}"}"#,
            .malformedFrame
        ),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{}","data":"{}"}"#, .malformedFrame),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"\x\"}"}"#, .malformedFrame),
        ("{\"command\":\"subscribe\",\"identifier\":\"{\\\"channel\\\":\\\"A\nB\\\"}\"}", .malformedFrame),
        (#"{"command":'subscribe'}"#, .malformedFrame),
        // Commands Rails does not know, the Circle seed's stray `{action, data}` among them.
        ("{}", .unknownCommand),
        (#"{"action":"message","data":"Hello Server!"}"#, .unknownCommand),
        (#"{"command":null,"identifier":"{\"channel\":\"A\"}"}"#, .unknownCommand),
        (#"{"command":1,"identifier":"{\"channel\":\"A\"}"}"#, .unknownCommand),
        (#"{"command":"Subscribe","identifier":"{\"channel\":\"A\"}"}"#, .unknownCommand),
        (#"{"command":"history","identifier":"{\"channel\":\"A\"}","history":{"since":1}}"#, .unknownCommand),
        (#"{"command":"pong"}"#, .unknownCommand),
        // Identifier problems.
        (#"{"command":"subscribe"}"#, .missingIdentifier),
        (#"{"command":"unsubscribe","identifier":null}"#, .missingIdentifier),
        (#"{"command":"message","identifier":"","data":"{}"}"#, .missingIdentifier),
        (#"{"command":"subscribe","identifier":{"channel":"ChatChannel"}}"#, .identifierNotString),
        (#"{"command":"subscribe","identifier":42}"#, .identifierNotString),
        (#"{"command":"subscribe","identifier":"ChatChannel"}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":" "}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":"[\"ChatChannel\"]"}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"A\"} x"}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"A\",}"}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"\\ud800\"}"}"#, .malformedIdentifier),
        (#"{"command":"subscribe","identifier":"{}"}"#, .invalidChannel),
        (#"{"command":"subscribe","identifier":"{\"room\":\"1\"}"}"#, .invalidChannel),
        (#"{"command":"subscribe","identifier":"{\"channel\":1}"}"#, .invalidChannel),
        (#"{"command":"subscribe","identifier":"{\"channel\":null}"}"#, .invalidChannel),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"\"}"}"#, .invalidChannel),
        (#"{"command":"subscribe","identifier":"{\"channel\":\"A\",\"channel\":\"B\"}"}"#, .invalidChannel),
        // Data problems, `message` only.
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}"}"#, .missingData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":null}"#, .missingData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":{"action":"speak"}}"#, .dataNotString),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":1}"#, .dataNotString),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"Hello Server!"}"#, .malformedData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":""}"#, .malformedData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"[1]"}"#, .malformedData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{\"action\":\"a\"} b"}"#, .malformedData),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{\"action\":1}"}"#, .invalidAction),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{\"action\":false}"}"#, .invalidAction),
        (#"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{\"action\":[\"a\"]}"}"#, .invalidAction),
        (
            #"{"command":"message","identifier":"{\"channel\":\"A\"}","data":"{\"action\":\"a\",\"action\":\"b\"}"}"#,
            .invalidAction
        ),
        // The identifier is checked before the data, as Rails finds the subscription first.
        (#"{"command":"message","identifier":42,"data":"nope"}"#, .identifierNotString),
    ])
    func badFrameFailsWithItsCode(_ text: String, _ code: ActionCableCommandError.Code) {
        #expect(self.failure(text)?.code == code, "\(text)")
    }

    @Test func deepNestingIsRefusedAtEveryLevelWithoutOverflowingTheStack() {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(self.failure(#"{"command":"subscribe","x":"# + nested + "}")?.code == .malformedFrame)
        let identifier = #"{\"channel\":\"A\",\"x\":"# + nested + "}"
        #expect(
            self.failure(#"{"command":"subscribe","identifier":""# + identifier + "\"}")?.code == .malformedIdentifier)
        let data = #"{\"x\":"# + nested + "}"
        let message = #"{"command":"message","identifier":"{\"channel\":\"A\"}","data":""# + data + "\"}"
        #expect(self.failure(message)?.code == .malformedData)
    }

    @Test func errorDescriptionNamesTheCodeForLogs() {
        let error = self.failure(#"{"command":"pong"}"#)
        #expect(error?.description == "ActionCableCommandError(unknown_command): unknown command")
        #expect(ActionCableCommandError.Code.invalidChannel.description == "invalid_channel")
    }

    @Test func identifierFromADecodedStringRefusesWhatIsNotAnIdentifier() {
        #expect(self.identifierFailure("")?.code == .missingIdentifier)
        #expect(self.identifierFailure("ChatChannel")?.code == .malformedIdentifier)
        #expect(self.identifierFailure(#"{"room":1}"#)?.code == .invalidChannel)
    }

    func identifierFailure(_ string: String) -> ActionCableCommandError? {
        do {
            _ = try ActionCableIdentifier(string)
            return nil
        } catch {
            return error
        }
    }

    func chatIdentifier() throws -> ActionCableIdentifier {
        try self.decode(Frames.subscribe).identifier
    }
}
