import Foundation
import PortcullisWire
import Testing

/// Frames recorded from the Ruby server's encoder: `ActiveSupport::JSON.encode` (Debian's
/// `ruby-actioncable` 6.1.7) of the hashes `Connection::Base` and `Channel::Base` transmit,
/// which rails/rails main builds the same way.
enum RecordedServerFrames {
    static let welcome = #"{"type":"welcome"}"#
    static let ping = #"{"type":"ping","message":1718000000}"#
    static let serverRestart = #"{"type":"disconnect","reason":"server_restart","reconnect":true}"#
    static let unauthorized = #"{"type":"disconnect","reason":"unauthorized","reconnect":false}"#
    static let closeWithoutReason = #"{"type":"disconnect","reason":null,"reconnect":true}"#
    static let confirm =
        #"{"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","type":"confirm_subscription"}"#
    static let reject = #"{"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","type":"reject_subscription"}"#
    static let broadcast = #"{"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","message":{"body":"hi"}}"#
    /// Rails re-escapes the decoded identifier: `<&>` and U+2028 as `\u…`, `/` raw.
    static let confirmEscaped =
        #"{"identifier":"{\"channel\":\"Chats::RoomChannel\",\"room\":\"a\\\"b\\\\c/d\\n\u003c\u0026\u003e\",\"who\":\"Zoë 🎉\",\"\u2028\":\"\\u0001\"}","type":"confirm_subscription"}"#
    /// `close(reason: "bye \"x\" <\b\f\u0001\u2028/é>")`.
    static let disconnectWithOddReason =
        #"{"type":"disconnect","reason":"bye \"x\" \u003c\b\f\u0001\u2028/é\u003e","reconnect":true}"#
    /// Every C0 control, then `"\/<>&`, U+2028, U+2029, DEL, a space, `é`, `🎉`.
    static let everySpecialCharacter =
        #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\/\u003c\u003e\u0026\u2028\u2029"#
        + "\u{7F} é🎉\""
}

@Suite struct ActionCableServerMessageTests {
    typealias Server = RecordedServerFrames
    typealias Client = RecordedClientFrames

    func identifier(_ frame: String) throws -> ActionCableIdentifier {
        try ActionCableCommand(decoding: frame).identifier
    }

    /// What the JS client reads: `JSON.parse(frame).identifier`.
    func parsedIdentifier(_ frame: String) throws -> String? {
        let object = try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]
        return object?["identifier"] as? String
    }

    @Test func welcomeIsTheBareFrameRailsSends() {
        #expect(ActionCableServerMessage.welcome.text == Server.welcome)
    }

    @Test func pingCarriesUnixSecondsAsANumberIn36Bytes() {
        let text = ActionCableServerMessage.ping(unixTime: 1_718_000_000).text
        #expect(text == Server.ping)
        #expect(text.utf8.count == 36)
    }

    @Test func confirmAndRejectEchoTheClientsIdentifierAsRailsDoes() throws {
        let identifier = try self.identifier(Client.subscribe)
        #expect(ActionCableServerMessage.confirmSubscription(identifier).text == Server.confirm)
        #expect(ActionCableServerMessage.rejectSubscription(identifier).text == Server.reject)
    }

    @Test func broadcastWrapsTheMessageJSONVerbatim() throws {
        let identifier = try self.identifier(Client.subscribe)
        #expect(ActionCableServerMessage.broadcast(identifier, message: #"{"body":"hi"}"#).text == Server.broadcast)
        #expect(
            ActionCableServerMessage.broadcast(identifier, message: #"{"n": 1.50, "s":"<\u00e9>"}"#).text
                == #"{"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","message":{"n": 1.50, "s":"<\u00e9>"}}"#
        )
    }

    @Test func disconnectWritesReasonAndReconnectAsRailsDoes() {
        typealias Reason = ActionCableServerMessage.DisconnectReason
        #expect(
            ActionCableServerMessage.disconnect(reason: Reason.serverRestart, reconnect: true).text
                == Server.serverRestart)
        #expect(
            ActionCableServerMessage.disconnect(reason: Reason.unauthorized, reconnect: false).text
                == Server.unauthorized)
        #expect(ActionCableServerMessage.disconnect(reason: nil, reconnect: true).text == Server.closeWithoutReason)
        let odd = "bye \"x\" <\u{08}\u{0C}\u{01}\u{2028}/é>"
        #expect(
            ActionCableServerMessage.disconnect(reason: odd, reconnect: true).text == Server.disconnectWithOddReason)
    }

    @Test func identifierBuiltFromADecodedStringIsWrittenAsRailsWritesIt() throws {
        let identifier = try ActionCableIdentifier(Client.escapedIdentifier)
        #expect(identifier.channel == "Chats::RoomChannel")
        #expect(ActionCableServerMessage.confirmSubscription(identifier).text == Server.confirmEscaped)
    }

    @Test func stringsAreEscapedExactlyLikeActiveSupport() {
        let string =
            String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\"\\/<>&\u{2028}\u{2029}\u{7F} é🎉"
        var output: [UInt8] = []
        JSONString.encodeLikeActiveSupport(string, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == Server.everySpecialCharacter)
    }

    @Test func clientsOwnEscapesDifferFromRailsButParseToTheSameIdentifier() throws {
        let identifier = try self.identifier(Client.subscribeWithEscapes)
        let ours = ActionCableServerMessage.confirmSubscription(identifier).text
        #expect(ours != Server.confirmEscaped)
        #expect(try self.parsedIdentifier(ours) == Client.escapedIdentifier)
        #expect(try self.parsedIdentifier(Server.confirmEscaped) == Client.escapedIdentifier)
        let broadcast = ActionCableServerMessage.broadcast(identifier, message: "[]").text
        #expect(try self.parsedIdentifier(broadcast) == identifier.string)
    }

    @Test(arguments: [
        #"{"channel":"ChatChannel","room":"1"}"#,
        #"{"channel":"Chats::RoomChannel","room":"a\"b\\c/d\n<&>","who":"Zoë 🎉","\#u{2028}":"\u0001"}"#,
        "{\n\t\"channel\" : \"A\",\r\n\"raw\":\"\u{7F}\u{2029}<&>\"}",
        #" { "channel" : "A" } "#,
    ])
    func identifierTokensRoundTripThroughACommand(_ string: String) throws {
        let identifier = try ActionCableIdentifier(string)
        let frame = #"{"command":"subscribe","identifier":"# + identifier.jsonToken + "}"
        #expect(try ActionCableCommand(decoding: frame) == .subscribe(identifier))
        #expect(try self.parsedIdentifier(ActionCableServerMessage.confirmSubscription(identifier).text) == string)
    }

    @Test func encodeAppendsToTheCallersBufferSoOneFrameServesManyConnections() throws {
        let message = ActionCableServerMessage.broadcast(
            try self.identifier(Client.subscribe), message: #"{"body":"hi"}"#)
        var output = Array("x".utf8)
        message.encode(into: &output)
        message.encode(into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x" + Server.broadcast + Server.broadcast)
    }
}
