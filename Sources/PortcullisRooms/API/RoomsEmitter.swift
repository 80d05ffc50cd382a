import PortcullisBus

/// Outputs aimed at one target (a connection, a user, a room, a token's connections or
/// everyone) in one namespace, the way Socket.IO's `io.to(room)` reads:
///
/// ```swift
/// try context.to(.room(roomID)).except(socket.id).emit("typing", payload)
/// context.to(.user(sellerID)).join(roomID)
/// ```
///
/// Every call queues an envelope on the context; nothing is sent before the handler
/// returns, and nothing at all when it throws.
public struct RoomsEmitter: Sendable {
    let context: RoomsContext
    let target: Envelope.Target
    let namespace: String?
    var excluded: String?

    init(context: RoomsContext, target: Envelope.Target, namespace: String?, excluded: String? = nil) {
        self.context = context
        self.target = target
        self.namespace = namespace
        self.excluded = excluded
    }

    /// The same target without `connection` (the sender, typically).
    public func except(_ connection: String?) -> RoomsEmitter {
        RoomsEmitter(context: self.context, target: self.target, namespace: self.namespace, excluded: connection)
    }

    /// Sends `event` with `arguments`, each encoded as JSON: one argument is the event's
    /// data (what ActionCable and raw clients receive as the message), several are a
    /// Socket.IO argument list, none sends the event alone.
    public func emit(_ event: String, _ arguments: any Encodable...) throws {
        try self.emit(event, arguments: arguments)
    }

    /// ``emit(_:_:)`` with the arguments as an array.
    public func emit(_ event: String, arguments: [any Encodable]) throws {
        let encoded = try EmittedArguments(arguments)
        self.context.emit(
            to: self.target, except: self.excluded, event: event, data: encoded.data, arguments: encoded.isList,
            namespace: self.namespace)
    }

    /// Adds the target's connections (in this namespace) to `room`.
    public func join(_ room: String) {
        self.context.join(self.target, room: room, except: self.excluded, namespace: self.namespace)
    }

    /// Removes the target's connections (in this namespace) from `room`.
    public func leave(_ room: String) {
        self.context.leave(self.target, room: room, except: self.excluded, namespace: self.namespace)
    }

    /// Closes the target's connections with `reason`.
    public func disconnect(reason: String) {
        self.context.disconnect(self.target, reason: reason, except: self.excluded)
    }
}

/// Handler values as envelope data: one value as itself, several as a JSON array with
/// `args` set, none as no data.
struct EmittedArguments {
    var data: Envelope.Payload?
    var isList: Bool

    init(_ values: [any Encodable]) throws {
        switch values.count {
        case 0:
            self.data = nil
            self.isList = false
        case 1:
            self.data = .json(try StoredJSON.encode(values[0]))
            self.isList = false
        default:
            self.data = .json(try StoredJSON.list(values))
            self.isList = true
        }
    }
}
