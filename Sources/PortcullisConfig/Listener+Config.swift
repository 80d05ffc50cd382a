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
            return listener
        }
    }
}

extension TLSSettings {
    /// Decodes `tls:`, either as a list of certificates chosen by SNI
    /// (`certificates: [{certificate, private_key, server_names}]`) or as the one-certificate
    /// shorthand with those keys directly under `tls:`.
    static func decode(_ reader: ConfigReader) -> TLSSettings? {
        reader.mapping { mapping -> TLSSettings? in
            let hasList = mapping.has("certificates")
            let shorthandKeys = ["certificate", "private_key", "server_names"].filter { mapping.has($0) }
            if hasList, let key = shorthandKeys.first {
                mapping.optional(key)?.fail("give either certificates or certificate and private_key, not both")
                return nil
            }
            if !shorthandKeys.isEmpty {
                let certificate = CertificateSettings.decode(mapping)
                return TLSSettings(certificates: [certificate], location: reader.location)
            }
            guard let list = mapping.required("certificates") else { return nil }
            let certificates = list.list { item in item.mapping(CertificateSettings.decode) } ?? []
            if certificates.isEmpty, case .sequence(let items) = list.node, items.isEmpty {
                list.fail("needs at least one certificate")
            }
            return TLSSettings(certificates: certificates, location: reader.location)
        } ?? nil
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
