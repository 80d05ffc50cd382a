/// One command from an ActionCable client (`actioncable-v1-json`), decoded from a text frame.
///
/// Rails' JS client sends exactly three (`subscriptions.js`, `subscription.js`, each frame
/// one `JSON.stringify` of an object, so member order is the client's):
/// ```
/// {"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"}
/// {"command":"unsubscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"}
/// {"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"{\"body\":\"hi\",\"action\":\"speak\"}"}
/// ```
/// `identifier` and `data` are JSON *strings* holding JSON text. The identifier is kept as
/// the client spelled it (``ActionCableIdentifier``); `data` is handed on as its exact text,
/// never re-serialized, so number precision, key order and escapes reach the handler intact.
///
/// Decoding is pure and stateless: whether the identifier names a subscription the
/// connection holds, whether the channel exists, and what to do with duplicates (the JS
/// client re-sends `subscribe` every 500 ms until confirmed) are the session's business.
/// The identifier's own JSON is checked for every command, where Rails parses it only on
/// `subscribe`: one that does not parse can never have been subscribed, so `unsubscribe` or
/// `message` naming it ends in the same silent drop either way.
/// Every failure is an ``ActionCableCommandError``, which the session logs and drops as
/// Rails does. Binary frames never reach this type: Rails logs and ignores non-string
/// messages (`Server::Socket::MessageBuffer#append`), and so should the session.
public enum ActionCableCommand: Hashable, Sendable {
    /// Subscribe to `identifier`'s channel; the server answers `confirm_subscription` or
    /// `reject_subscription`.
    case subscribe(ActionCableIdentifier)
    /// Drop the subscription; Rails sends no answer.
    case unsubscribe(ActionCableIdentifier)
    /// Run `action` on the subscription's channel. `data` is the JSON object text the client
    /// sent, `action` member included (Rails passes the whole hash to the action method).
    /// `action` is nil when absent, `null` or blank, which Rails dispatches to the channel's
    /// `receive` (`Channel::Base#extract_action`: `data["action"].presence || :receive`).
    case message(ActionCableIdentifier, action: String?, data: String)

    /// The subscription the command is about.
    public var identifier: ActionCableIdentifier {
        switch self {
        case .subscribe(let identifier), .unsubscribe(let identifier), .message(let identifier, _, _):
            return identifier
        }
    }

    /// Decodes one complete text message from the client. Unknown members are ignored,
    /// as Rails ignores them; `data` is read only for `message`.
    public init(decoding text: String) throws(ActionCableCommandError) {
        let members = try Members(text)
        guard let command = members.command?.string else {
            throw ActionCableCommandError(code: .unknownCommand, message: "\"command\" must be a string")
        }
        switch command {
        case "subscribe":
            self = .subscribe(try members.identifier())
        case "unsubscribe":
            self = .unsubscribe(try members.identifier())
        case "message":
            let identifier = try members.identifier()
            let data = try members.data()
            self = .message(identifier, action: try Self.action(in: data), data: data)
        default:
            throw ActionCableCommandError(code: .unknownCommand, message: "unknown command")
        }
    }

    /// The `action` member of a `message` command's data object, nil when Rails would call
    /// `receive`. Ruby's `presence` also maps `false`, `[]` and `{}` to `receive`; no client
    /// sends those, and refusing them keeps an action a string or nothing.
    private static func action(in data: String) throws(ActionCableCommandError) -> String? {
        let values: [JSONScanner.MemberValue]
        do throws(JSONScanner.Failure) {
            values = try JSONScanner.values(of: "action", inObject: data)
        } catch {
            throw ActionCableCommandError(code: .malformedData, message: "data is not a JSON object: \(error.message)")
        }
        let invalid = ActionCableCommandError(code: .invalidAction, message: "\"action\" must be one string or null")
        guard values.count <= 1 else { throw invalid }
        switch values.first {
        case nil, .null:
            return nil
        case .string(let action):
            return action.allSatisfy(\.isWhitespace) ? nil : action
        case .other:
            throw invalid
        }
    }
}

extension ActionCableCommand {
    /// The three members a command may carry, each as its raw value range and, when the
    /// value is a JSON string, its decoded text.
    private struct Members {
        struct Value {
            var range: Range<Int>
            var string: String?
        }

        let bytes: [UInt8]
        let command: Value?
        let identifierValue: Value?
        let dataValue: Value?

        init(_ text: String) throws(ActionCableCommandError) {
            var scanner = JSONScanner(Array(text.utf8))
            var command: Value?
            var identifier: Value?
            var data: Value?
            do throws(JSONScanner.Failure) {
                try scanner.scanObjectMembers { key, scanner throws(JSONScanner.Failure) in
                    switch key {
                    case "command": try Self.scan(&command, key, &scanner)
                    case "identifier": try Self.scan(&identifier, key, &scanner)
                    case "data": try Self.scan(&data, key, &scanner)
                    default: try scanner.skipValue(depth: 1)
                    }
                }
                scanner.skipWhitespace()
                guard scanner.isAtEnd else { throw JSONScanner.Failure(message: "trailing data after JSON object") }
            } catch {
                throw ActionCableCommandError(code: .malformedFrame, message: error.message)
            }
            self.bytes = scanner.bytes
            self.command = command
            self.identifierValue = identifier
            self.dataValue = data
        }

        private static func scan(
            _ value: inout Value?, _ key: String, _ scanner: inout JSONScanner
        ) throws(JSONScanner.Failure) {
            guard value == nil else { throw JSONScanner.Failure(message: "duplicate \"\(key)\"") }
            let start = scanner.index
            if scanner.peek() == UInt8(ascii: "\"") {
                let string = try scanner.scanString()
                value = Value(range: start..<scanner.index, string: string)
            } else {
                value = Value(range: try scanner.skipValue(depth: 1), string: nil)
            }
        }

        private func isNull(_ value: Value) -> Bool {
            value.string == nil && self.bytes[value.range].elementsEqual("null".utf8)
        }

        func identifier() throws(ActionCableCommandError) -> ActionCableIdentifier {
            guard let value = self.identifierValue, !self.isNull(value), value.string != "" else {
                throw ActionCableCommandError(code: .missingIdentifier, message: "\"identifier\" is required")
            }
            guard let string = value.string else {
                throw ActionCableCommandError(code: .identifierNotString, message: "\"identifier\" must be a string")
            }
            let token = String(decoding: self.bytes[value.range], as: UTF8.self)
            return try ActionCableIdentifier(string: string, jsonToken: token)
        }

        func data() throws(ActionCableCommandError) -> String {
            guard let value = self.dataValue, !self.isNull(value) else {
                throw ActionCableCommandError(code: .missingData, message: "\"message\" needs \"data\"")
            }
            guard let string = value.string else {
                throw ActionCableCommandError(code: .dataNotString, message: "\"data\" must be a string")
            }
            return string
        }
    }
}
