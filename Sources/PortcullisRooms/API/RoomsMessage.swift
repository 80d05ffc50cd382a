import NIOCore
import PortcullisBus

/// A client event (Socket.IO), action (ActionCable) or message (raw) with its arguments.
public struct RoomsMessage: Sendable {
    let context: RoomsContext
    /// The event name, or the ActionCable action.
    public let event: String
    /// Binary attachments of a Socket.IO binary event, in placeholder order.
    public var attachments: [ByteBuffer] { self.context.envelope.attachments }
    /// The data as the edge delivered it.
    public var payload: Envelope.Payload? { self.context.envelope.data }

    init(context: RoomsContext) {
        self.context = context
        self.event = context.envelope.event ?? ""
    }

    /// The arguments, parsed on each read: a Socket.IO argument list as sent; the data of
    /// an ActionCable or raw message as the one argument; text data as a string; none for
    /// binary data (read ``payload``). Data that is not JSON is the client's error.
    public var arguments: [JSON] {
        get throws(RoomsInputError) {
            let envelope = self.context.envelope
            guard let data = envelope.data else { return [] }
            switch data.type {
            case .json:
                guard let value = JSON(parsing: data.string) else {
                    throw RoomsInputError("\(self.event): data is not valid JSON")
                }
                guard envelope.arguments else { return [value] }
                guard let list = value.array else {
                    throw RoomsInputError("\(self.event): args data is not a JSON array")
                }
                return list
            case .text:
                return [.string(data.string)]
            default:
                return []
            }
        }
    }

    /// Argument `index` decoded as `T`; a missing or mistyped argument is the client's
    /// error (``RoomsInputError``): the worker drops the message instead of retrying it.
    public func argument<T: Decodable>(_ index: Int = 0, as type: T.Type = T.self) throws(RoomsInputError) -> T {
        let arguments = try self.arguments
        guard arguments.indices.contains(index) else {
            throw RoomsInputError("\(self.event): argument \(index) is missing")
        }
        do {
            return try arguments[index].decode(T.self)
        } catch {
            throw RoomsInputError("\(self.event): argument \(index) is not a \(T.self): \(error)")
        }
    }

    /// Whether the client asked for an answer (Socket.IO ack).
    public var wantsAck: Bool { self.context.envelope.ack != nil }

    /// Answers the client's ack with `values` (Socket.IO `callback(...values)`); does
    /// nothing when the client asked for none.
    public func ack(_ values: any Encodable...) throws {
        self.context.reply(arguments: .json(try StoredJSON.list(values)))
    }

    /// Answers the ack with a binary argument list: `arguments` holds a
    /// `{"_placeholder":true,"num":i}` for each of `attachments`.
    public func ack(arguments: [JSON], attachments: [ByteBuffer]) {
        self.context.reply(arguments: .json(JSON.array(arguments).text), attachments: attachments)
    }
}

/// Input from a client that a handler cannot use (a missing argument, the wrong shape):
/// the worker logs it and acknowledges the envelope without outputs, since a retry would
/// fail the same way.
public struct RoomsInputError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
