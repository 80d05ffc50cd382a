/// Percentiles of one histogram in microseconds (0.1 µs resolution), as printed in JSON.
struct LatencySummary: Encodable, Sendable {
    var count: UInt64
    var p50Us: Double
    var p90Us: Double
    var p99Us: Double
    var p999Us: Double
    var maxUs: Double
    var minUs: Double
    var meanUs: Double
}
