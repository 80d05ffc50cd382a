import Foundation
import PortcullisBus

/// One ActionCable subscription: a connection's subscription to a channel under an
/// identifier, as a Rails channel instance sees it.
public struct RoomsSubscription: Sendable {
    public let context: RoomsContext
    /// The connection id.
    public let id: String
    /// The identifier as the client sent it (the envelope's `ns`).
    public let identifier: String
    /// The identifier's members, `channel` included (Rails' `params`).
    public let params: JSON
    let verdict: Verdict

    init(context: RoomsContext, id: String, identifier: String, params: JSON, verdict: Verdict = Verdict()) {
        self.context = context
        self.id = id
        self.identifier = identifier
        self.params = params
        self.verdict = verdict
    }

    public var channel: String { self.params["channel"]?.string ?? "" }

    public var user: String? { self.context.envelope.user }

    /// The verified claims the edge passed on (`.null` when it passed none).
    public var claims: JSON { self.context.envelope.claims.flatMap(JSON.init(parsing:)) ?? .null }

    /// The upgrade request's query parameters, in ``RoomsChannel/onSubscribe(_:)`` only.
    public var query: [String: String]? {
        guard self.context.envelope.kind == .open else { return nil }
        return RoomsSocket.Handshake(openData: self.context.envelope.data).query
    }

    /// Per-subscription values, deleted after ``RoomsChannel/onUnsubscribe(_:)``.
    public var data: RoomsSocket.SocketData {
        RoomsSocket.SocketData(hash: self.context.store.hash(JSON.self, "subscription", self.id, self.identifier))
    }

    /// Follows `stream` (Rails `stream_from`): broadcasts to it reach this subscription.
    public func stream(from stream: String) {
        self.context.join(.connection(self.id), room: stream, namespace: self.identifier)
    }

    /// Stops following `stream` (Rails `stop_stream_from`).
    public func stopStream(from stream: String) {
        self.context.leave(.connection(self.id), room: stream, namespace: self.identifier)
    }

    /// Sends `message` to this subscription only (Rails `transmit`).
    public func transmit(_ message: some Encodable) throws {
        self.context.emit(
            to: .connection(self.id), event: "transmit", data: .json(try StoredJSON.encode(message)),
            namespace: self.identifier)
    }

    /// Sends `message` to every subscription following `stream`, on any connection (Rails
    /// `ActionCable.server.broadcast`).
    public func broadcast(to stream: String, _ message: some Encodable) throws {
        self.context.broadcast(toRoom: stream, data: .json(try StoredJSON.encode(message)))
    }

    /// Refuses the subscription (Rails `reject`); in ``RoomsChannel/onSubscribe(_:)`` only.
    /// What the handler queued for it before or after is dropped. `reason` is for the
    /// edge's log; ActionCable's `reject_subscription` carries none.
    public func reject(_ reason: String? = nil) {
        self.verdict.reject(reason ?? "rejected by \(self.channel)")
    }

    /// Whether ``reject()`` was called, shared by the copies of one subscription.
    final class Verdict: @unchecked Sendable {
        private let lock = NSLock()
        private var reason: String?

        func reject(_ reason: String) {
            self.lock.withLock { self.reason = reason }
        }

        /// Why the subscription was rejected; nil while it was not.
        var rejection: String? {
            self.lock.withLock { self.reason }
        }
    }
}
