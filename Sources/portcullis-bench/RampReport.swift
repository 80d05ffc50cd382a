/// The state of a ramp, printed as a `progress` line every second and a `ready` (or
/// `ramp_failed`) line at the end; drivers wait for `ready` before measuring.
struct RampReport: Encodable, Sendable {
    var type: String
    var target: Int
    var open: Int
    var pending: Int
    var attempts: Int
    var failures: Int
    /// Connections that were open and then closed by the server (or the network).
    var closed: Int
    var elapsedS: Double
    /// Connections opened per second during this ramp.
    var rate: Double
    var failureKinds: [String: Int]
    var firstError: String?
}
