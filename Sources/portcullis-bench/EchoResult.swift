/// One echo run, printed as a `result` line.
struct EchoResult: Encodable, Sendable {
    var type = "result"
    var label: String
    /// `fixed` (open loop at `rate_target`) or `closed` (`inflight` per connection).
    var mode: String
    var connections: Int
    var rateTarget: Double?
    var inflight: Int?
    var durationS: Double
    /// Messages sent inside the window, and how many of them were answered.
    var sent: Int
    var answered: Int
    var lost: Int
    var sentPerS: Double
    /// Answers received inside the window per second: the sustained rate.
    var completedPerS: Double
    /// Round trip of the window's messages.
    var latency: LatencySummary
    /// Answers without a timestamp: error events such as `rate_limited` or `bad_message`.
    var otherFrames: Int
    var clientCpuS: Double
}
