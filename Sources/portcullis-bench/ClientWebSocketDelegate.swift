import NIOCore

/// What one kind of load (hold, broadcast subscriber, echo) does with its connections.
///
/// Every call happens on the load generator's one event loop, so conforming classes keep
/// plain mutable state shared by all their connections without locks.
protocol ClientWebSocketDelegate: AnyObject, SendableMetatype {
    /// The upgrade completed; the connection may send.
    func opened(_ connection: ClientWebSocketHandler)
    /// A complete text message arrived (its payload, unmasked).
    func received(text: ByteBuffer, on connection: ClientWebSocketHandler)
    /// The connection is gone (closed by either side).
    func closed(_ connection: ClientWebSocketHandler)
}
