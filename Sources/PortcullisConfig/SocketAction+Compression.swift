extension SocketAction {
    /// permessage-deflate (RFC 7692) on a socket route's WebSockets (`socket.compression:`).
    ///
    /// Off unless configured. When on, the edge accepts the first acceptable offer a client
    /// makes; clients that offer nothing connect uncompressed as before. The defaults favour
    /// memory per connection over ratio: `server_no_context_takeover` keeps no compressor
    /// per connection (and lets a broadcast be compressed once for every socket), and
    /// `client_no_context_takeover` keeps no inflate window between a client's messages, so
    /// an idle connection costs about the same with compression as without.
    public struct Compression: Sendable, Hashable {
        public var serverNoContextTakeover = true
        public var clientNoContextTakeover = true
        /// 9–15: zlib cannot compress with an 8-bit window, so clients asking for
        /// `server_max_window_bits=8` are declined.
        public var serverMaxWindowBits = 15
        /// 8–15; below 15, clients that cannot limit their window are declined.
        public var clientMaxWindowBits = 15
        /// Messages shorter than this go out uncompressed.
        public var minSize = 256

        public init() {}
    }
}

extension SocketAction.Compression {
    /// Decodes `socket.compression:`: `on`, `off`, or a mapping.
    ///
    /// | Key                          | Type          | Default |
    /// |------------------------------|---------------|---------|
    /// | `enabled`                    | bool          | `true` (a mapping turns it on) |
    /// | `server_no_context_takeover` | bool          | `true`  |
    /// | `client_no_context_takeover` | bool          | `true`  |
    /// | `server_max_window_bits`     | int, 9 to 15  | `15`    |
    /// | `client_max_window_bits`     | int, 8 to 15  | `15`    |
    /// | `min_size`                   | size, 0 to 64 MiB | `256B` |
    ///
    /// nil: off (also when decoding failed; the reader holds the error).
    static func decode(_ reader: ConfigReader) -> SocketAction.Compression? {
        if case .scalar = reader.node {
            switch reader.string() {
            case "on": return SocketAction.Compression()
            case "off": return nil
            case let text?:
                reader.fail("expected on, off or a mapping, got \(reader.quoted(text))")
                return nil
            case nil:
                return nil
            }
        }
        return reader.mapping { mapping -> SocketAction.Compression? in
            var settings = SocketAction.Compression()
            let enabled = mapping.optional("enabled")?.bool() ?? true
            if let value = mapping.optional("server_no_context_takeover")?.bool() {
                settings.serverNoContextTakeover = value
            }
            if let value = mapping.optional("client_no_context_takeover")?.bool() {
                settings.clientNoContextTakeover = value
            }
            if let value = mapping.optional("server_max_window_bits")?.int(min: 9, max: 15) {
                settings.serverMaxWindowBits = value
            }
            if let value = mapping.optional("client_max_window_bits")?.int(min: 8, max: 15) {
                settings.clientMaxWindowBits = value
            }
            if let value = mapping.optional("min_size")?.size(in: 0...(64 << 20), rangeText: "between 0B and 64MiB") {
                settings.minSize = value
            }
            return enabled ? settings : nil
        } ?? nil
    }
}
