/// How the broadcast command sends one broadcast carrying `t` (its CLOCK_MONOTONIC send
/// time): on the bus for the edge, or as a `fire` message for the floor server.
protocol TickPublisher: Sendable {
    func publish(t: UInt64) async throws
    func close() async
}
