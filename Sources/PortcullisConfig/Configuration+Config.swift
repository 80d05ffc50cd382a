extension Configuration {
    /// Decodes the root mapping of the main conf file.
    ///
    /// | Key         | Type                      | Default            |
    /// |-------------|---------------------------|--------------------|
    /// | `version`   | int, must be 1            | required           |
    /// | `edge`      | mapping (`EdgeSettings`)  | defaults           |
    /// | `listeners` | list of `Listener`, >= 1  | required           |
    /// | `admin`     | mapping (`Admin`)         | `127.0.0.1:9090`   |
    /// | `upstreams` | mapping name -> `Upstream`| none               |
    /// | `routes`    | list of `Route` or `include: GLOB` | none      |
    /// | `auth`      | mapping (`AuthSettings`)  | defaults           |
    /// | `redis`     | mapping (`RedisSettings`) | none               |
    /// | `bus`       | mapping (`BusSettings`)   | defaults           |
    ///
    /// Upstreams are collected in the decoder (included files add to them) and put into
    /// `upstreams` by the caller.
    static func decode(_ mapping: MappingReader) -> Configuration {
        var configuration = Configuration()
        if let version = mapping.required("version")?.formatVersion() {
            configuration.version = version
        }
        if let reader = mapping.optional("edge"), let edge = EdgeSettings.decode(reader) {
            configuration.edge = edge
        }
        let decoder = mapping.reader.decoder
        if let reader = mapping.required("listeners"), let listeners = reader.list(Listener.decode) {
            configuration.listeners = listeners
            if case .sequence(let items) = reader.node {
                if items.isEmpty {
                    reader.fail("needs at least one listener")
                }
                decoder.listenersComplete = listeners.count == items.count && listeners.allSatisfy { !$0.name.isEmpty }
            }
        } else {
            decoder.listenersComplete = false
        }
        if let reader = mapping.optional("admin"), let admin = Admin.decode(reader) {
            configuration.admin = admin
        }
        if let reader = mapping.optional("upstreams") {
            decoder.decodeUpstreams(reader)
        }
        if let reader = mapping.optional("auth"), let auth = AuthSettings.decode(reader) {
            configuration.auth = auth
        }
        if let reader = mapping.optional("redis") {
            configuration.redis = RedisSettings.decode(reader)
        }
        if let reader = mapping.optional("bus"), let bus = BusSettings.decode(reader) {
            configuration.bus = bus
        }
        if let reader = mapping.optional("routes") {
            configuration.routes = decoder.routes(reader)
        }
        return configuration
    }
}

extension EdgeSettings {
    /// Decodes `edge:`.
    ///
    /// | Key             | Type                          | Default  |
    /// |-----------------|-------------------------------|----------|
    /// | `id`            | `[A-Za-z0-9_-]{1,32}`         | `edge-1` |
    /// | `drain_timeout` | duration, may be `0s`         | `20s`    |
    /// | `event_loops`   | int >= 0, 0 = one per core    | `0`      |
    /// | `access_log`    | bool                          | `true`   |
    /// | `log_format`    | `text`, `logfmt` or `json`    | `text`   |
    /// | `watch_interval`| duration, `0s` = off          | `2s`     |
    static func decode(_ reader: ConfigReader) -> EdgeSettings? {
        reader.mapping { mapping in
            var edge = EdgeSettings()
            if let id = mapping.optional("id")?.name(maxLength: 32) {
                edge.id = id
            }
            if let timeout = mapping.optional("drain_timeout")?.duration(positive: false) {
                edge.drainTimeout = timeout
            }
            if let loops = mapping.optional("event_loops")?.int(min: 0, max: 4096) {
                edge.eventLoops = loops
            }
            if let accessLog = mapping.optional("access_log")?.bool() {
                edge.accessLog = accessLog
            }
            if let format = mapping.optional("log_format")?.choice(LogFormat.self) {
                edge.logFormat = format
            }
            if let interval = mapping.optional("watch_interval")?.duration(positive: false) {
                edge.watchInterval = interval
            }
            return edge
        }
    }
}

extension Admin {
    /// Decodes `admin:`.
    ///
    /// | Key       | Type                                   | Default          |
    /// |-----------|----------------------------------------|------------------|
    /// | `address` | host:port                              | `127.0.0.1:9090` |
    /// | `tls`     | mapping (`TLSSettings`, as a listener's) | plain HTTP     |
    /// | `publish` | mapping (`PublishSettings`)            | publishing off   |
    static func decode(_ reader: ConfigReader) -> Admin? {
        reader.mapping { mapping in
            var admin = Admin()
            admin.location = reader.location
            if let address = mapping.optional("address")?.hostPort() {
                admin.address = address
            }
            if let tls = mapping.optional("tls") {
                admin.tls = TLSSettings.decode(tls)
            }
            if let publish = mapping.optional("publish") {
                admin.publish = PublishSettings.decode(publish)
            }
            return admin
        }
    }
}
