/// One measured broadcast series at one subscriber count, printed as a `result` line.
struct BroadcastResult: Encodable, Sendable {
    var type = "result"
    var label: String
    /// What the subscribers speak: raw, socketio or actioncable.
    var wireProtocol: String
    /// Subscribers asked for, and open when measuring.
    var requested: Int
    var connections: Int
    var broadcasts: Int
    var deliveries: Int
    var expectedDeliveries: Int
    var missing: Int
    /// Frames whose broadcast had already timed out (or was unknown).
    var strays: Int
    /// Receive − send over every delivery of the measured broadcasts.
    var latency: LatencySummary
    /// Per broadcast: the last subscriber's receive − send.
    var lastSubscriber: LatencySummary
    /// How long one publish call took (XADD round trip, or writing `fire`).
    var publish: LatencySummary
    var probes: Int
    var probeS: Double
    /// Whether a probe reached every subscriber before measuring.
    var allJoined: Bool
    var elapsedS: Double
    var clientCpuS: Double
}
