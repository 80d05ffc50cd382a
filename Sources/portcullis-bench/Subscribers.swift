import NIOCore

/// The broadcast load: every connection joins the room as soon as it is open and feeds the
/// `t` of every frame it receives to the ``TickTracker``.
///
/// The join is a message to the echo app (raw, Socket.IO), which echoes it and then writes
/// the join to the bus; an ActionCable connection is open only once its subscription is
/// confirmed, and the app writes the stream join right after the confirmation. Either way
/// the client can hear back before the edge applies the join, so the command probes with
/// broadcasts until one reaches every subscriber before it measures.
final class Subscribers: ClientWebSocketDelegate {
    let tracker: TickTracker
    private let join: ByteBuffer?
    private(set) var framesWithoutTimestamp = 0

    init(eventLoop: any EventLoop, join: String?) {
        self.tracker = TickTracker(eventLoop: eventLoop)
        self.join = join.map { ByteBuffer(string: $0) }
    }

    /// The echo app's `join` event for `room` in `wireProtocol`, or nil where the protocol's
    /// handshake subscribed already (ActionCable). `room` needs no JSON escaping (the command
    /// allows letters, digits and `_-.:` only).
    static func joinMessage(room: String, wireProtocol: ClientProtocol) -> String? {
        switch wireProtocol {
        case .raw: #"{"event":"join","data":{"room":""# + room + #""}}"#
        case .socketIO: #"42["join",{"room":""# + room + #""}]"#
        case .actionCable: nil
        }
    }

    func opened(_ connection: ClientWebSocketHandler) {
        if let join = self.join { connection.sendText(join) }
    }

    func received(text: ByteBuffer, on connection: ClientWebSocketHandler) {
        let now = MonotonicClock.now()
        if let t = TickMessage.timestamp(in: text) {
            self.tracker.received(t, at: now)
        } else {
            self.framesWithoutTimestamp += 1
        }
    }

    func closed(_ connection: ClientWebSocketHandler) {}
}
