/// Printed when the floor server stops: what it did.
struct StoppedLine: Encodable, Sendable {
    var type: String
    var connections: Int
    var peakConnections: Int
    var broadcasts: Int
    var framesWritten: Int
}
