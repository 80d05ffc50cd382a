import Foundation
import NIOCore
import PortcullisBus

/// What a handler can do while handling one inbound envelope: queue outbound envelopes
/// (emit, ack, join, leave, disconnect, and the answers to an ActionCable subscription,
/// confirm and reject) and keep app state in its ``store``.
///
/// Outputs are only buffered here; the worker writes them (XADD) after the handler returns,
/// so a handler that throws writes nothing. An output for one connection goes to
/// `<prefix>:out:edge:<edge of the connection>`, anything else to `<prefix>:out:bcast`.
/// Outbound envelopes inherit `app` and `ns` from the inbound one unless given
/// (``broadcast(toRoom:event:data:except:)`` is the one output without `ns`).
public final class RoomsContext: @unchecked Sendable {
    /// The envelope being handled.
    public let envelope: Envelope
    /// The app's own keys (Redis in the worker, memory under ``InMemoryBus``).
    public let store: RoomsStore
    /// Key names under the configured prefix.
    public let names: StreamNames
    /// Clock for `ts` of outputs, in ms since the Unix epoch.
    private let now: @Sendable () -> Int64

    private let lock = NSLock()
    private var queued: [(stream: StreamName, envelope: Envelope)] = []

    public init(
        envelope: Envelope, store: RoomsStore, names: StreamNames, now: @escaping @Sendable () -> Int64
    ) {
        self.envelope = envelope
        self.store = store
        self.names = names
        self.now = now
    }

    /// The outputs queued so far, in order.
    public var outputs: [(stream: StreamName, envelope: Envelope)] {
        self.lock.withLock { self.queued }
    }

    /// The connection the inbound envelope came from, when it names one.
    public var connection: String? { self.envelope.connection }

    /// Sends `event` with `data` to `target`, leaving out `except`. `ack` only makes sense
    /// for one connection: the client's answer comes back as an inbound `ack`. With
    /// `arguments`, `data` is a JSON array of event arguments (`args`).
    public func emit(
        to target: Envelope.Target,
        except: String? = nil,
        event: String,
        data: Envelope.Payload? = nil,
        arguments: Bool = false,
        ack: Int? = nil,
        namespace: String? = nil
    ) {
        var out = self.outbound(.emit, target: target, namespace: namespace)
        out.except = except
        out.event = event
        out.data = data
        out.arguments = arguments
        out.ack = ack
        self.enqueue(out)
    }

    /// Sends `event` with an argument list: `arguments` is a JSON array that a Socket.IO
    /// edge spreads into the event's arguments (`args` on the envelope), where
    /// ``emit(to:except:event:data:ack:namespace:)`` sends its `data` as one argument.
    /// `attachments` are the binary values the array's `{"_placeholder":true,"num":i}`
    /// entries stand for, `att:0` first (at most ``Envelope/maximumAttachments``), which
    /// makes it a binary event.
    public func emit(
        to target: Envelope.Target,
        except: String? = nil,
        event: String,
        arguments: Envelope.Payload,
        attachments: [ByteBuffer] = [],
        ack: Int? = nil,
        namespace: String? = nil
    ) {
        var out = self.outbound(.emit, target: target, namespace: namespace)
        out.except = except
        out.event = event
        out.data = arguments
        out.arguments = true
        out.attachments = attachments
        out.ack = ack
        self.enqueue(out)
    }

    /// Sends `data` to every connection in `room` with no `ns`, whatever the inbound
    /// envelope had: ActionCable's `broadcast(stream, message)`, which reaches every
    /// subscription that follows the stream (each client gets it once per such
    /// subscription, under that subscription's identifier). The namespace-inheriting
    /// ``emit(to:except:event:data:ack:namespace:)`` cannot express this, since its nil
    /// `namespace` means "the inbound one". `event` is optional because ActionCable
    /// messages have none.
    public func broadcast(toRoom room: String, event: String? = nil, data: Envelope.Payload?, except: String? = nil) {
        var out = self.outbound(.emit, target: .room(room), namespace: nil)
        out.namespace = nil
        out.except = except
        out.event = event
        out.data = data
        self.enqueue(out)
    }

    /// Answers the inbound message's `ack` id (kind `ack` to the sending connection); does
    /// nothing when the message did not ask for an answer.
    public func reply(data: Envelope.Payload?) {
        guard let ack = self.envelope.ack, let connection = self.envelope.connection else { return }
        var out = self.outbound(.ack, target: .connection(connection), namespace: nil)
        out.ack = ack
        out.data = data
        self.enqueue(out)
    }

    /// Answers the inbound message's `ack` id with an argument list (Socket.IO: `ack(...args)`):
    /// `arguments` is a JSON array, `[]` for an answer without arguments; `attachments` make
    /// it a binary ack, as in ``emit(to:except:event:arguments:attachments:ack:namespace:)``.
    /// Does nothing when the message did not ask for an answer.
    public func reply(arguments: Envelope.Payload, attachments: [ByteBuffer] = []) {
        guard let ack = self.envelope.ack, let connection = self.envelope.connection else { return }
        var out = self.outbound(.ack, target: .connection(connection), namespace: nil)
        out.ack = ack
        out.data = arguments
        out.arguments = true
        out.attachments = attachments
        self.enqueue(out)
    }

    /// Accepts the pending subscription `namespace` of `connection` (ActionCable
    /// `confirm_subscription`): the answer an app owes every `open` of a channel it serves.
    /// The client performs actions only once confirmed.
    public func confirm(connection: String, namespace: String) {
        self.enqueue(self.outbound(.confirm, target: .connection(connection), namespace: namespace))
    }

    /// Refuses the pending subscription or namespace `namespace` of `connection`
    /// (ActionCable `reject_subscription`; Socket.IO CONNECT_ERROR with `reason` as its
    /// message). `reason` is for logs and Socket.IO clients; ActionCable sends none.
    public func reject(connection: String, namespace: String, reason: String? = nil) {
        var out = self.outbound(.reject, target: .connection(connection), namespace: namespace)
        out.reason = reason
        self.enqueue(out)
    }

    /// Adds the target's connections to `room`.
    public func join(_ target: Envelope.Target, room: String, except: String? = nil, namespace: String? = nil) {
        var out = self.outbound(.join, target: target, namespace: namespace)
        out.room = room
        out.except = except
        self.enqueue(out)
    }

    /// Adds one connection to `room`.
    public func join(connection: String, room: String) {
        self.join(.connection(connection), room: room)
    }

    /// Removes the target's connections from `room`.
    public func leave(_ target: Envelope.Target, room: String, except: String? = nil, namespace: String? = nil) {
        var out = self.outbound(.leave, target: target, namespace: namespace)
        out.room = room
        out.except = except
        self.enqueue(out)
    }

    /// Removes one connection from `room`.
    public func leave(connection: String, room: String) {
        self.leave(.connection(connection), room: room)
    }

    /// Closes the target's connections (a connection or every connection of a user) with
    /// `reason`.
    public func disconnect(_ target: Envelope.Target, reason: String, except: String? = nil) {
        var out = self.outbound(.disconnect, target: target, namespace: nil)
        out.namespace = nil
        out.reason = reason
        out.except = except
        self.enqueue(out)
    }

    /// Everything queued is dropped: a handler that refuses its input after queueing
    /// outputs leaves nothing half-done.
    func discardOutputs() {
        self.truncateOutputs(to: 0)
    }

    /// How many outputs are queued: a mark to insert before or cut back to.
    var outputCount: Int {
        self.lock.withLock { self.queued.count }
    }

    /// Drops the outputs queued after `mark`.
    func truncateOutputs(to mark: Int) {
        self.lock.withLock { self.queued.removeSubrange(min(mark, self.queued.count)...) }
    }

    /// Queues `envelope` before the outputs queued after `mark` (an ActionCable
    /// confirmation goes before the stream joins and transmits of the `subscribed` that
    /// earned it).
    func insert(_ envelope: Envelope, at mark: Int) {
        let stream = self.stream(for: envelope.target)
        self.lock.withLock { self.queued.insert((stream, envelope), at: min(mark, self.queued.count)) }
    }

    /// An outbound envelope of `kind` for `target`, with this context's app and clock.
    func makeOutbound(_ kind: Envelope.Kind, target: Envelope.Target, namespace: String?) -> Envelope {
        self.outbound(kind, target: target, namespace: namespace)
    }

    /// Emits, joins, leaves and disconnects aimed at `target`, in `namespace` (nil: the
    /// inbound envelope's): `context.to(.user(id)).emit("notification", payload)`.
    public func to(_ target: Envelope.Target, namespace: String? = nil) -> RoomsEmitter {
        RoomsEmitter(context: self, target: target, namespace: namespace)
    }

    /// Queues a ready-made outbound envelope (routed by its target).
    public func send(_ envelope: Envelope) {
        self.enqueue(envelope)
    }

    private func outbound(_ kind: Envelope.Kind, target: Envelope.Target, namespace: String?) -> Envelope {
        Envelope(
            id: Envelope.randomID(),
            kind: kind,
            app: self.envelope.app,
            namespace: namespace ?? self.envelope.namespace,
            target: target,
            timestamp: self.now()
        )
    }

    private func enqueue(_ envelope: Envelope) {
        let stream = self.stream(for: envelope.target)
        self.lock.withLock { self.queued.append((stream, envelope)) }
    }

    /// Where an output goes: one connection → its edge's stream, anything else → the
    /// broadcast stream (``StreamNames/outbound(for:)``).
    func stream(for target: Envelope.Target?) -> StreamName {
        self.names.outbound(for: target).stream
    }
}
