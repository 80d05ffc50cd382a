extension Listener {
    /// Decodes one item of `listeners:`.
    ///
    /// | Key               | Type                       | Default   |
    /// |-------------------|----------------------------|-----------|
    /// | `name`            | `[A-Za-z0-9_-]+`, unique   | required  |
    /// | `address`         | host:port, unique          | required  |
    /// | `max_header_size` | size, 1KiB...1MiB          | `32KiB`   |
    /// | `idle_timeout`    | duration > 0               | `60s`     |
    /// | `tls`             | mapping (`TLSSettings`)    | plain TCP |
    /// | `max_request_line`| size, 256B...64KiB         | `8KiB`    |
    /// | `max_headers`     | integer, 1...1000          | `100`     |
    /// | `merge_slashes`   | bool                       | `true`    |
    /// | `underscore_headers` | `keep`, `drop`, `reject` | `keep`   |
    /// | `server_name`     | host name                  | address   |
    /// | `trusted_proxies` | list of IPs or CIDRs       | none      |
    /// | `proxy_protocol`  | bool                       | `false`   |
    static func decode(_ reader: ConfigReader) -> Listener? {
        reader.mapping { mapping in
            let name = mapping.required("name")?.name() ?? ""
            let address = mapping.required("address")?.hostPort() ?? HostPort(host: "", port: 0)
            var listener = Listener(name: name, address: address, location: reader.location)
            if let size = mapping.optional("max_header_size")?.size(
                in: 1024...(1 << 20), rangeText: "between 1KiB and 1MiB")
            {
                listener.maxHeaderSize = size
            }
            if let timeout = mapping.optional("idle_timeout")?.duration() {
                listener.idleTimeout = timeout
            }
            if let tls = mapping.optional("tls") {
                listener.tls = TLSSettings.decode(tls)
            }
            if let size = mapping.optional("max_request_line")?.size(
                in: 256...(64 << 10), rangeText: "between 256B and 64KiB")
            {
                listener.maxRequestLine = size
            }
            if let count = mapping.optional("max_headers")?.int(min: 1, max: 1000) {
                listener.maxHeaders = count
            }
            if let merge = mapping.optional("merge_slashes")?.bool() {
                listener.mergeSlashes = merge
            }
            if let policy = mapping.optional("underscore_headers")?.choice(UnderscoreHeaderPolicy.self) {
                listener.underscoreHeaders = policy
            }
            if let serverName = mapping.optional("server_name"), let name = serverName.hostPattern() {
                if name.hasPrefix("*.") {
                    serverName.fail("expected a host name, not a wildcard")
                } else {
                    listener.serverName = name
                }
            }
            if let proxies = mapping.optional("trusted_proxies") {
                listener.trustedProxies = proxies.list { $0.cidr() } ?? []
            }
            if let proxyProtocol = mapping.optional("proxy_protocol")?.bool() {
                listener.proxyProtocol = proxyProtocol
            }
            return listener
        }
    }
}

extension TLSSettings {
    /// Decodes `tls:`, either as a list of certificates chosen by SNI
    /// (`certificates: [{certificate, private_key, server_names}]`) or as the one-certificate
    /// shorthand with those keys directly under `tls:`.
    ///
    /// | Key            | Type                                   | Default        |
    /// |----------------|----------------------------------------|----------------|
    /// | `certificates` | list of `CertificateSettings`          | or shorthand   |
    /// | `profile`      | `intermediate` or `modern`             | `intermediate` |
    static func decode(_ reader: ConfigReader) -> TLSSettings? {
        reader.mapping { mapping -> TLSSettings? in
            // Read before any early return, so a valid `profile` is never reported as unknown.
            let profile = mapping.optional("profile").flatMap(TLSProfile.decode)
            let hasList = mapping.has("certificates")
            let shorthandKeys = ["certificate", "private_key", "server_names"].filter { mapping.has($0) }
            if hasList, let key = shorthandKeys.first {
                mapping.optional(key)?.fail("give either certificates or certificate and private_key, not both")
                return nil
            }
            let certificates: [CertificateSettings]
            if !shorthandKeys.isEmpty {
                certificates = [CertificateSettings.decode(mapping)]
            } else {
                guard let list = mapping.required("certificates") else { return nil }
                certificates = list.list { item in item.mapping(CertificateSettings.decode) } ?? []
                if certificates.isEmpty, case .sequence(let items) = list.node, items.isEmpty {
                    list.fail("needs at least one certificate")
                }
            }
            var settings = TLSSettings(certificates: certificates, location: reader.location)
            if let profile {
                settings.profile = profile
            }
            return settings
        } ?? nil
    }
}

extension TLSProfile {
    /// Decodes `tls.profile`; the error lists every profile this build knows.
    static func decode(_ reader: ConfigReader) -> TLSProfile? {
        guard let text = reader.string() else { return nil }
        guard let profile = TLSProfile(rawValue: text) else {
            let names = allCases.map(\.rawValue).joined(separator: " or ")
            reader.fail("expected \(names), got \(reader.quoted(text))")
            return nil
        }
        return profile
    }
}

extension CertificateSettings {
    /// Decodes one certificate (an item of `tls.certificates`, or `tls:` itself).
    ///
    /// | Key            | Type                                   | Default       |
    /// |----------------|----------------------------------------|---------------|
    /// | `certificate`  | path to PEM chain, must exist          | required      |
    /// | `private_key`  | path to PEM key, must exist            | required      |
    /// | `server_names` | list of host or `*.domain`, lowercased | from the cert |
    static func decode(_ mapping: MappingReader) -> CertificateSettings {
        let certificate = requiredFile("certificate", in: mapping)
        let privateKey = requiredFile("private_key", in: mapping)
        let names = mapping.optional("server_names")?.list { $0.hostPattern() } ?? []
        return CertificateSettings(
            certificatePath: certificate,
            privateKeyPath: privateKey,
            serverNames: names,
            location: mapping.location
        )
    }

    /// The path at `key`, recorded for the validate pass's check that the file exists.
    private static func requiredFile(_ key: String, in mapping: MappingReader) -> String {
        guard let path = mapping.required(key)?.filePath() else { return "" }
        let location = mapping.location(of: key)
        mapping.reader.decoder.fileReferences.append(FileReference(path: path, location: location))
        return path
    }
}

extension ConfigReader {
    /// A host name as matched against SNI and the Host header: an exact name
    /// (`api.example.com`) or a wildcard for one or more leading labels (`*.example.com`),
    /// returned lowercased. Ports are not allowed.
    func hostPattern() -> String? {
        guard let text = scalar(expected: "a host name") else { return nil }
        let host = text.lowercased()
        let name = host.hasPrefix("*.") ? host.dropFirst(2) : Substring(host)
        if let colon = host.lastIndex(of: ":"), !host.hasPrefix("["),
            host[host.index(after: colon)...].allSatisfy(\.isNumber)
        {
            fail("\(quoted(text)) must not include a port")
            return nil
        }
        guard ConfigValue.isHostName(name) else {
            fail("expected a host name like api.example.com or *.example.com, got \(quoted(text))")
            return nil
        }
        return host
    }
}
