extension Upstream {
    /// Decodes one entry of `upstreams:`; the key is the upstream's name.
    ///
    /// | Key                   | Type                   | Default  |
    /// |-----------------------|------------------------|----------|
    /// | (name)                | `[A-Za-z0-9_.-]+`      |          |
    /// | `servers`             | list of host:port, >= 1| required |
    /// | `connect_timeout`     | duration > 0           | `2s`     |
    /// | `response_timeout`    | duration > 0           | `30s`    |
    /// | `idle_timeout`        | duration > 0           | `60s`    |
    /// | `max_idle_per_server` | int >= 0               | `32`     |
    /// | `max_fails`           | int >= 1               | `3`      |
    /// | `fail_timeout`        | duration > 0           | `10s`    |
    ///
    /// Always returns an upstream, with no servers when the value is not a mapping, so
    /// routes naming it are not also reported.
    static func decode(name: String, _ reader: ConfigReader) -> Upstream {
        if !isValidName(name) {
            reader.fail("\(reader.quoted(name)) is not a valid upstream name (letters, digits, \"_\", \"-\", \".\")")
        }
        let decoded = reader.mapping { mapping in
            var upstream = Upstream(name: name, servers: [], location: reader.location)
            if let list = mapping.required("servers") {
                upstream.servers = list.list { $0.serverAddress() } ?? []
                if case .sequence(let items) = list.node, items.isEmpty {
                    list.fail("needs at least one server")
                }
            }
            if let timeout = mapping.optional("connect_timeout")?.duration() {
                upstream.connectTimeout = timeout
            }
            if let timeout = mapping.optional("response_timeout")?.duration() {
                upstream.responseTimeout = timeout
            }
            if let timeout = mapping.optional("idle_timeout")?.duration() {
                upstream.idleTimeout = timeout
            }
            if let count = mapping.optional("max_idle_per_server")?.int(min: 0) {
                upstream.maxIdlePerServer = count
            }
            if let count = mapping.optional("max_fails")?.int(min: 1) {
                upstream.maxFails = count
            }
            if let timeout = mapping.optional("fail_timeout")?.duration() {
                upstream.failTimeout = timeout
            }
            return upstream
        }
        return decoded ?? Upstream(name: name, servers: [], location: reader.location)
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    }
}

extension ConfigReader {
    /// A host:port an upstream connection can be made to (port 0 is rejected).
    fileprivate func serverAddress() -> HostPort? {
        guard let address = hostPort() else { return nil }
        guard address.port != 0 else {
            fail("port 0 cannot be connected to")
            return nil
        }
        return address
    }
}
