extension SocketAction {
    /// Decodes a route's `socket:`.
    ///
    /// | Key                 | Type                                   | Default |
    /// |---------------------|----------------------------------------|---------|
    /// | `app`               | `[A-Za-z0-9_-]{1,64}`                  | required |
    /// | `protocol`          | `raw`                                  | `raw`   |
    /// | `mode`              | `json` or `opaque`                     | `json`  |
    /// | `max_message_size`  | size, 125 B to 64 MiB                  | `1MiB`  |
    /// | `ping_interval`     | duration                               | `25s`   |
    /// | `ping_timeout`      | duration                               | `20s`   |
    /// | `handshake_timeout` | duration                               | `10s`   |
    /// | `send_queue`        | size, 4 KiB to 256 MiB                 | `1MiB`  |
    /// | `rate_limit`        | mapping, or `off`                      | 100/s, burst 200, close after 50 |
    /// | `subprotocols`      | list of tokens                         | none    |
    ///
    /// `rate_limit` keys: `messages_per_second` (number > 0), `burst` (int ≥ 1, default
    /// twice the rate), `close_after` (int ≥ 1, default 50).
    static func decode(_ reader: ConfigReader) -> SocketAction? {
        reader.mapping { mapping in
            var socket = SocketAction(app: mapping.required("app")?.name(maxLength: 64) ?? "")
            if let reader = mapping.optional("protocol"), let text = reader.string() {
                if let value = WireProtocol(rawValue: text) {
                    socket.wireProtocol = value
                } else {
                    reader.fail("expected raw, got \(reader.quoted(text))")
                }
            }
            if let reader = mapping.optional("mode"), let text = reader.string() {
                if let value = Mode(rawValue: text) {
                    socket.mode = value
                } else {
                    reader.fail("expected json or opaque, got \(reader.quoted(text))")
                }
            }
            if let size = mapping.optional("max_message_size")?.size(
                in: 125...(64 << 20), rangeText: "between 125B and 64MiB")
            {
                socket.maxMessageSize = size
            }
            if let value = mapping.optional("ping_interval")?.duration() { socket.pingInterval = value }
            if let value = mapping.optional("ping_timeout")?.duration() { socket.pingTimeout = value }
            if let value = mapping.optional("handshake_timeout")?.duration() { socket.handshakeTimeout = value }
            if let size = mapping.optional("send_queue")?.size(
                in: 4096...(256 << 20), rangeText: "between 4KiB and 256MiB")
            {
                socket.sendQueue = size
            }
            if let reader = mapping.optional("rate_limit") {
                socket.rateLimit = RateLimit.decode(reader)
            }
            if let reader = mapping.optional("subprotocols") {
                socket.subprotocols = reader.list { $0.name(extra: "!#$%&'*+-.^_`|~", maxLength: 128) } ?? []
            }
            return socket
        }
    }
}

extension SocketAction.RateLimit {
    /// `off` disables the limit; otherwise a mapping (see ``SocketAction/decode(_:)``).
    static func decode(_ reader: ConfigReader) -> SocketAction.RateLimit? {
        if case .scalar = reader.node, reader.string() == "off" {
            return nil
        }
        return reader.mapping { mapping -> SocketAction.RateLimit? in
            guard let rateReader = mapping.required("messages_per_second"), let text = rateReader.string() else {
                return nil
            }
            guard let rate = Double(text), rate > 0, rate.isFinite else {
                rateReader.fail("expected a number above 0, got \(rateReader.quoted(text))")
                return nil
            }
            let burst = mapping.optional("burst")?.int(min: 1, max: 1_000_000) ?? max(1, Int((rate * 2).rounded(.up)))
            let closeAfter = mapping.optional("close_after")?.int(min: 1, max: 1_000_000) ?? 50
            return SocketAction.RateLimit(messagesPerSecond: rate, burst: burst, closeAfter: closeAfter)
        } ?? nil
    }
}

extension BusSettings {
    /// Decodes `bus:`.
    ///
    /// | Key                    | Type                                  | Default      |
    /// |------------------------|---------------------------------------|--------------|
    /// | `prefix`               | 1–64 of `A-Z a-z 0-9 _ - . :`         | `portcullis` |
    /// | `heartbeat_interval`   | duration                              | `5s`         |
    /// | `heartbeat_ttl`        | duration, longer than the interval    | `15s`        |
    /// | `max_buffered_appends` | int ≥ 1, per event loop               | `10000`      |
    static func decode(_ reader: ConfigReader) -> BusSettings? {
        reader.mapping { mapping in
            var bus = BusSettings()
            bus.location = reader.location
            if let prefix = mapping.optional("prefix")?.name(extra: "_-.:", maxLength: 64) {
                bus.prefix = prefix
            }
            if let value = mapping.optional("heartbeat_interval")?.duration() { bus.heartbeatInterval = value }
            if let reader = mapping.optional("heartbeat_ttl"), let value = reader.duration() {
                bus.heartbeatTTL = value
                if value <= bus.heartbeatInterval {
                    reader.fail("must be longer than heartbeat_interval (\(bus.heartbeatInterval))")
                }
            }
            if let value = mapping.optional("max_buffered_appends")?.int(min: 1, max: 10_000_000) {
                bus.maxBufferedAppends = value
            }
            return bus
        }
    }
}
