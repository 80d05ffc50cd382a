extension SocketAction {
    /// Decodes a route's `socket:`.
    ///
    /// | Key                 | Type                                   | Default |
    /// |---------------------|----------------------------------------|---------|
    /// | `app`               | `[A-Za-z0-9_-]{1,64}`                  | required |
    /// | `protocol`          | `raw`, `socketio` or `actioncable`     | `raw`   |
    /// | `mode`              | `json` or `opaque` (raw only)          | `json`  |
    /// | `socketio`          | mapping (`SocketAction.SocketIO`)      | defaults, with `protocol: socketio` |
    /// | `actioncable`       | mapping (`SocketAction.ActionCable`)   | defaults, with `protocol: actioncable` |
    /// | `max_message_size`  | size, 125 B to 64 MiB                  | `1MiB`  |
    /// | `ping_interval`     | duration                               | `25s`   |
    /// | `ping_timeout`      | duration                               | `20s`   |
    /// | `handshake_timeout` | duration                               | `10s`   |
    /// | `send_queue`        | size, 4 KiB to 256 MiB                 | `1MiB`  |
    /// | `rate_limit`        | mapping, or `off`                      | 100/s, burst 200, close after 50 |
    /// | `subprotocols`      | list of tokens                         | none (`actioncable-v1-json` for actioncable) |
    /// | `emit_endpoints`    | mapping (`SocketAction.EmitEndpoints`) | none    |
    /// | `compression`       | `on`, `off` or mapping (`SocketAction.Compression`) | `off` |
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
                    reader.fail("expected raw, socketio or actioncable, got \(reader.quoted(text))")
                }
            }
            switch socket.wireProtocol {
            case .raw:
                break
            case .socketio:
                socket.socketIO = mapping.optional("socketio").map(SocketIO.decode) ?? SocketIO()
            case .actioncable:
                socket.actionCable = mapping.optional("actioncable").map(ActionCable.decode) ?? ActionCable()
            }
            for (key, wireProtocol) in [("socketio", WireProtocol.socketio), ("actioncable", .actioncable)]
            where socket.wireProtocol != wireProtocol {
                mapping.optional(key)?.fail("only with protocol: \(wireProtocol.rawValue)")
            }
            if socket.wireProtocol != .raw {
                mapping.optional("mode")?.fail("only with protocol: raw")
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
            if socket.wireProtocol == .actioncable, socket.subprotocols.isEmpty {
                // What Rails' client offers and must hear back; clients that offer none still connect.
                socket.subprotocols = ["actioncable-v1-json"]
            }
            if let socketIO = socket.socketIO {
                // Engine.IO's limit is per message: the advertised maxPayload is the one enforced.
                socket.maxMessageSize = socketIO.maxPayload
            }
            if let reader = mapping.optional("compression") {
                socket.compression = Compression.decode(reader)
            }
            if let reader = mapping.optional("emit_endpoints") {
                socket.emitEndpoints = EmitEndpoints.decode(reader, socket: socket)
            }
            return socket
        }
    }
}

extension SocketAction.SocketIO {
    /// Decodes `socket.socketio:`.
    ///
    /// | Key               | Type                                         | Default        |
    /// |-------------------|----------------------------------------------|----------------|
    /// | `path`            | absolute path                                | `/socket.io/`  |
    /// | `namespaces`      | list of `/name` (or `*`: any)                | `["/"]`        |
    /// | `transports`      | list of `polling`, `websocket`               | both           |
    /// | `ping_interval`   | duration                                     | `25s`          |
    /// | `ping_timeout`    | duration                                     | `20s`          |
    /// | `max_payload`     | size, 125 B to 64 MiB                        | `1000000`      |
    /// | `connect_timeout` | duration                                     | `45s`          |
    /// | `auth_token_field`| name                                         | `token`        |
    /// | `refresh_event`   | event name                                   | none           |
    /// | `expiry_event`    | event name                                   | none           |
    /// | `max_attachments` | int, 0 to 100                                | `10`           |
    static func decode(_ reader: ConfigReader) -> SocketAction.SocketIO {
        reader.mapping { mapping in
            var settings = SocketAction.SocketIO()
            if let reader = mapping.optional("path"), let path = reader.string() {
                if path.hasPrefix("/"), !path.contains("?"), !path.contains("#"), !path.contains(" ") {
                    settings.path = path
                } else {
                    reader.fail("expected an absolute path like /socket.io/, got \(reader.quoted(path))")
                }
            }
            if let reader = mapping.optional("namespaces") {
                settings.namespaces =
                    reader.list { item -> String? in
                        guard let text = item.string() else { return nil }
                        guard text == "*" || (text.hasPrefix("/") && !text.contains(",") && !text.contains("?"))
                        else {
                            item.fail("expected a namespace like /chat (or *), got \(item.quoted(text))")
                            return nil
                        }
                        return text
                    } ?? settings.namespaces
            }
            if let reader = mapping.optional("transports") {
                let transports = reader.list { $0.choice(Transport.self) } ?? []
                if transports.isEmpty {
                    reader.fail("expected at least one of polling, websocket")
                } else {
                    settings.transports = transports
                }
            }
            if let value = mapping.optional("ping_interval")?.duration() { settings.pingInterval = value }
            if let value = mapping.optional("ping_timeout")?.duration() { settings.pingTimeout = value }
            if let value = mapping.optional("max_payload")?.size(
                in: 125...(64 << 20), rangeText: "between 125B and 64MiB")
            {
                settings.maxPayload = value
            }
            if let value = mapping.optional("connect_timeout")?.duration() { settings.connectTimeout = value }
            if let value = mapping.optional("auth_token_field")?.name(extra: "_-.", maxLength: 64) {
                settings.authTokenField = value
            }
            if let value = mapping.optional("refresh_event")?.name(extra: "_-.:$", maxLength: 128) {
                settings.refreshEvent = value
            }
            if let value = mapping.optional("expiry_event")?.name(extra: "_-.:$", maxLength: 128) {
                settings.expiryEvent = value
            }
            if let value = mapping.optional("max_attachments")?.int(min: 0, max: 100) {
                settings.maxAttachments = value
            }
            return settings
        } ?? SocketAction.SocketIO()
    }
}

extension SocketAction.ActionCable {
    /// Decodes `socket.actioncable:`.
    ///
    /// | Key                 | Type             | Default |
    /// |---------------------|------------------|---------|
    /// | `ping_interval`     | duration         | `3s`    |
    /// | `max_subscriptions` | int, 1 to 10000  | `100`   |
    static func decode(_ reader: ConfigReader) -> SocketAction.ActionCable {
        reader.mapping { mapping in
            var settings = SocketAction.ActionCable()
            if let value = mapping.optional("ping_interval")?.duration() { settings.pingInterval = value }
            if let value = mapping.optional("max_subscriptions")?.int(min: 1, max: 10_000) {
                settings.maxSubscriptions = value
            }
            return settings
        } ?? SocketAction.ActionCable()
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
