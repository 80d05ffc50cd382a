extension RedisSettings {
    /// Decodes a `redis:` mapping: the edge's top-level one and `rooms.yaml`'s.
    ///
    /// | Key                     | Type                                                  | Default              |
    /// |-------------------------|-------------------------------------------------------|----------------------|
    /// | `url`                   | `redis://`, `rediss://` (TLS) or `unix://` URL        | required             |
    /// | `username`              | ACL user name                                         | the default user     |
    /// | `password_file`         | file whose contents (one trailing newline trimmed) are the password | none   |
    /// | `tls.ca_file`           | PEM file of trusted certificates                      | the system's roots   |
    /// | `tls.certificate_file`  | PEM client certificate (with `private_key_file`)      | none                 |
    /// | `tls.private_key_file`  | PEM private key of `certificate_file`                 | none                 |
    /// | `tls.server_name`       | DNS name sent as SNI and verified in the certificate  | the URL's host       |
    /// | `sentinels`             | list of host:port (plain TCP), with `master_name`     | none: the URL's host |
    /// | `master_name`           | the master's name in the sentinels                    | required with `sentinels` |
    /// | `cluster`               | list of host:port seed nodes of a Redis Cluster       | none: not a cluster  |
    ///
    /// `username` and `password_file` are the alternative to credentials in the URL, for
    /// conf files that are committed: giving both is an error, and so is a `username`
    /// without `password_file`. `tls` needs a `rediss://` URL. Files are read at load.
    /// `cluster` excludes `sentinels`, needs a TCP URL with database 0 (a cluster has no
    /// other), and uses the URL's credentials and TLS for every node, not its host.
    public static func decode(_ reader: ConfigReader) -> RedisSettings? {
        reader.mapping { mapping -> RedisSettings? in
            guard let urlReader = mapping.required("url"), let url = urlReader.string() else { return nil }
            let schemes = ["redis://", "rediss://", "unix://", "redis+unix://"]
            guard let scheme = schemes.first(where: { url.lowercased().hasPrefix($0) }) else {
                urlReader.fail(
                    "expected redis://host:port/db, rediss://host:port/db or unix:///path, got a different scheme")
                return nil
            }
            var settings = RedisSettings(url: url, location: mapping.location(of: "url"))
            let authority = url.dropFirst(scheme.count).prefix { $0 != "/" }
            let urlHasCredentials = authority.contains("@")

            let username = mapping.optional("username")
            let passwordFile = mapping.optional("password_file")
            if urlHasCredentials, let given = passwordFile ?? username {
                given.fail(
                    "the password is already in redis.url: give either credentials in the URL or "
                        + "username/password_file, not both",
                    code: .duplicate)
            } else {
                if let username, let name = username.string() {
                    if name.isEmpty || name.contains(where: { $0.isWhitespace || $0.isNewline }) {
                        username.fail("expected an ACL user name without spaces, got \(username.quoted(name))")
                    } else if passwordFile == nil {
                        username.fail("a username needs password_file (AUTH takes a user and a password)")
                    } else {
                        settings.username = name
                    }
                }
                settings.password = passwordFile?.secretFileContents()
            }

            if let tls = mapping.optional("tls") {
                if scheme != "rediss://" {
                    tls.fail("TLS needs a rediss:// URL in redis.url")
                } else {
                    settings.tls = Self.decodeTLS(tls)
                }
            } else if scheme == "rediss://" {
                settings.tls = TLS()
            }
            settings.sentinel = Self.decodeSentinel(mapping, scheme: scheme)
            settings.cluster = Self.decodeCluster(mapping, scheme: scheme, url: url)
            return settings
        } ?? nil
    }

    private static func decodeSentinel(_ mapping: MappingReader, scheme: String) -> Sentinel? {
        let sentinels = mapping.optional("sentinels")
        let masterName = mapping.optional("master_name")
        guard sentinels != nil || masterName != nil else { return nil }
        guard let sentinels, let masterName else {
            (sentinels ?? masterName)?.fail("sentinels and master_name go together")
            return nil
        }
        if scheme.hasSuffix("unix://") {
            sentinels.fail("sentinels need a redis:// or rediss:// URL (the master is reached over TCP)")
            return nil
        }
        guard let addresses = sentinels.list({ $0.hostPort() }), let name = masterName.string() else { return nil }
        if addresses.isEmpty {
            sentinels.fail("needs at least one host:port")
            return nil
        }
        if name.isEmpty || name.contains(where: \.isWhitespace) {
            masterName.fail("expected a master name without spaces, got \(masterName.quoted(name))")
            return nil
        }
        return Sentinel(addresses: addresses, masterName: name)
    }

    private static func decodeCluster(_ mapping: MappingReader, scheme: String, url: String) -> Cluster? {
        guard let cluster = mapping.optional("cluster") else { return nil }
        if mapping.optional("sentinels") != nil {
            cluster.fail("cluster and sentinels exclude each other: a cluster fails over by itself", code: .duplicate)
            return nil
        }
        if scheme.hasSuffix("unix://") {
            cluster.fail("cluster needs a redis:// or rediss:// URL (the nodes are reached over TCP)")
            return nil
        }
        let path = url.dropFirst(scheme.count).drop { $0 != "/" }.dropFirst().prefix { $0 != "?" }
        if !path.isEmpty, path != "0" {
            cluster.fail("a Redis Cluster has database 0 only: drop /\(path) from redis.url")
            return nil
        }
        guard let seeds = cluster.list({ $0.hostPort() }) else { return nil }
        if seeds.isEmpty {
            cluster.fail("needs at least one host:port")
            return nil
        }
        return Cluster(seeds: seeds)
    }

    private static func decodeTLS(_ reader: ConfigReader) -> TLS? {
        reader.mapping { mapping in
            var tls = TLS()
            tls.caFile = mapping.optional("ca_file").flatMap(Self.readableFile)
            tls.certificateFile = mapping.optional("certificate_file").flatMap(Self.readableFile)
            tls.privateKeyFile = mapping.optional("private_key_file").flatMap(Self.readableFile)
            if (tls.certificateFile == nil) != (tls.privateKeyFile == nil) {
                let given = mapping.optional("certificate_file") ?? mapping.optional("private_key_file")
                if let given {
                    given.fail("a client certificate needs both certificate_file and private_key_file")
                }
            }
            if let reader = mapping.optional("server_name"), let name = reader.string() {
                let isName =
                    !name.isEmpty && !name.contains(":")
                    && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
                    && !name.allSatisfy { $0.isNumber || $0 == "." }
                if isName {
                    tls.serverName = name
                } else {
                    reader.fail("expected a DNS name such as redis.internal, got \(reader.quoted(name))")
                }
            }
            return tls
        }
    }

    /// A file path that must be readable now (read once, so the mistake shows at load).
    private static func readableFile(_ reader: ConfigReader) -> String? {
        guard let path = reader.filePath(), reader.contents(of: path) != nil else { return nil }
        return path
    }
}
