/// What a permessage-deflate negotiation (RFC 7692) agreed on for one WebSocket, seen from
/// the server: the window it compresses with and whether it resets it after each message
/// (`server_*`), the window the client compresses with, which sizes our inflater, and
/// whether the client resets its own (`client_*`).
///
/// Built by ``negotiate(offers:policy:)`` from the client's `Sec-WebSocket-Extensions`
/// and the route's ``Policy``; ``responseHeaderValue`` is what the 101 answers.
public struct PerMessageDeflate: Hashable, Sendable {
    /// The route's settings: what the server asks for and what it accepts.
    public struct Policy: Hashable, Sendable {
        /// Reset our compressor after every message. Costs ratio, but a connection keeps
        /// no compressor between messages and a broadcast is compressed once for all.
        public var serverNoContextTakeover: Bool
        /// Ask clients to reset theirs, so we keep no inflate window between messages.
        public var clientNoContextTakeover: Bool
        /// The largest window we compress with, 9–15.
        public var serverMaxWindowBits: Int
        /// The largest window we let clients use, 8–15; below 15 only clients that offer
        /// `client_max_window_bits` are accepted.
        public var clientMaxWindowBits: Int
        /// Messages shorter than this go out uncompressed.
        public var minSize: Int

        public init(
            serverNoContextTakeover: Bool = true, clientNoContextTakeover: Bool = true,
            serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15, minSize: Int = 256
        ) {
            self.serverNoContextTakeover = serverNoContextTakeover
            self.clientNoContextTakeover = clientNoContextTakeover
            self.serverMaxWindowBits = serverMaxWindowBits
            self.clientMaxWindowBits = clientMaxWindowBits
            self.minSize = minSize
        }
    }

    public var serverNoContextTakeover: Bool
    public var clientNoContextTakeover: Bool
    /// The window we compress with (9–15).
    public var serverMaxWindowBits: Int
    /// The window the client compresses with, so the one we inflate with (8–15).
    public var clientMaxWindowBits: Int
    /// Not negotiated: our threshold below which messages go out uncompressed.
    public var minSize: Int
    /// The `Sec-WebSocket-Extensions` value of the 101.
    public var responseHeaderValue: String

    public static let extensionName = "permessage-deflate"

    /// What a sync flush ends with; removed from every compressed message and appended
    /// back before inflating (RFC 7692 §7.2.1, §7.2.2).
    static let syncFlushTail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
}
