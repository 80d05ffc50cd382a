import NIOCore

/// The broadcast load: every connection joins the room as soon as it is open and feeds the
/// `t` of every frame it receives to the ``TickTracker``.
///
/// The join is a message to the echo app, which echoes it and then writes the join to the
/// bus; the echo can come back before the edge applies the join, so the command probes
/// with broadcasts until one reaches every subscriber before it measures.
final class Subscribers: ClientWebSocketDelegate {
    let tracker: TickTracker
    private let join: ByteBuffer
    private(set) var framesWithoutTimestamp = 0

    /// `room` needs no JSON escaping (the command allows letters, digits and `_-.:` only).
    init(eventLoop: any EventLoop, room: String) {
        self.tracker = TickTracker(eventLoop: eventLoop)
        self.join = ByteBuffer(string: #"{"event":"join","data":{"room":""# + room + #""}}"#)
    }

    func opened(_ connection: ClientWebSocketHandler) {
        connection.sendText(self.join)
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
