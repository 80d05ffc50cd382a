extension AuthSettings {
    /// Decodes the top-level `auth:`.
    ///
    /// | Key                   | Type                                   | Default               |
    /// |-----------------------|----------------------------------------|-----------------------|
    /// | `key_sets`            | mapping name -> list of key sources    | none                  |
    /// | `cookie_secrets_file` | file, one secret per line              | none                  |
    /// | `session_prefix`      | string                                 | `sess:`               |
    /// | `session_user_field`  | dotted path                            | `passport.user`       |
    /// | `revocation_prefix`   | string                                 | `portcullis:revoked:` |
    /// | `token_cache_size`    | int >= 0                               | `100000`              |
    /// | `session_check_interval` | duration, `0s` for off              | `5s`                  |
    ///
    /// A key source is `{jwks_file: F}`, `{pem_file: F, alg: RS256, kid: K, default: B}`
    /// or `{secret_file: F, alg: HS256, kid: K, default: B}`.
    static func decode(_ reader: ConfigReader) -> AuthSettings? {
        reader.mapping { mapping in
            var auth = AuthSettings()
            auth.location = reader.location
            if let sets = mapping.optional("key_sets") {
                auth.keySets = sets.namedMapping { _, sources in sources.list(KeySourceSettings.decode) ?? [] } ?? [:]
            }
            if mapping.optional("cookie_secrets_file") != nil {
                auth.cookieSecretsFile = mapping.recordedFile("cookie_secrets_file")
            }
            if let prefix = mapping.optional("session_prefix")?.string() {
                auth.sessionPrefix = prefix
            }
            if let field = mapping.optional("session_user_field")?.string() {
                auth.sessionUserField = field
            }
            if let prefix = mapping.optional("revocation_prefix")?.string() {
                auth.revocationPrefix = prefix
            }
            if let size = mapping.optional("token_cache_size")?.int(min: 0, max: 10_000_000) {
                auth.tokenCacheSize = size
            }
            if let interval = mapping.optional("session_check_interval")?.duration(positive: false) {
                auth.sessionCheckInterval = interval
            }
            return auth
        }
    }
}

extension KeySourceSettings {
    static let algorithms = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]

    static func decode(_ reader: ConfigReader) -> KeySourceSettings? {
        reader.mapping { mapping -> KeySourceSettings? in
            let kinds: [(String, Kind)] = [("jwks_file", .jwks), ("pem_file", .pem), ("secret_file", .secret)]
            let given = kinds.filter { mapping.optional($0.0) != nil }
            guard given.count == 1, let (key, kind) = given.first else {
                reader.fail("needs exactly one of jwks_file, pem_file, secret_file")
                return nil
            }
            var source = KeySourceSettings(kind: kind, path: mapping.recordedFile(key), location: reader.location)
            if let alg = mapping.optional("alg") {
                if let text = alg.string() {
                    if Self.algorithms.contains(text) {
                        source.alg = text
                    } else {
                        alg.fail("expected one of \(Self.algorithms.joined(separator: ", ")), got \(alg.quoted(text))")
                    }
                }
            } else if kind != .jwks {
                reader.fail("\(key) needs alg (the one algorithm this key may verify)")
            }
            if kind == .secret, let alg = source.alg, !alg.hasPrefix("HS") {
                reader.fail("a secret_file is an HMAC key: alg must be HS256, HS384 or HS512")
            }
            if kind == .pem, let alg = source.alg, alg.hasPrefix("HS") {
                reader.fail("a pem_file is a public key: alg must be RS* or ES*, never HS*")
            }
            source.kid = mapping.optional("kid")?.string()
            source.isDefault = mapping.optional("default")?.bool() ?? false
            return source
        } ?? nil
    }
}

extension RouteAuth {
    /// Decodes a route's `auth:`.
    ///
    /// | Key                     | Type                                              | Default          |
    /// |-------------------------|---------------------------------------------------|------------------|
    /// | `methods`               | list of `jwt`, `session` (any one suffices)       | `[jwt]`          |
    /// | `key_set`               | name under `auth.key_sets`                        | required for jwt |
    /// | `tokens`                | list of `header`, `query:NAME`, `cookie:NAME`, `subprotocol`, `socketio` | `[header]` |
    /// | `issuers`               | list of strings                                   | any              |
    /// | `audiences`             | list of strings                                   | any              |
    /// | `scopes`                | list of required scopes (all of them)             | none             |
    /// | `leeway`                | duration, at most 5m                              | `30s`            |
    /// | `claim_headers`         | mapping header -> claim                           | none             |
    /// | `session_cookie`        | cookie name                                       | `connect.sid`    |
    /// | `origins`               | list of origins or `https://*.domain` patterns    | no Origin check  |
    /// | `clients`               | `browser` or `server`                             | `browser` with session, else `server` |
    /// | `forward_authorization` | bool                                              | `false`          |
    /// | `forward_cookie`        | bool                                              | `true`           |
    /// | `socket_id_header`      | header name (`x-socket-id`), vouched by the edge  | none             |
    static func decode(_ reader: ConfigReader) -> RouteAuth? {
        reader.mapping { mapping in
            var auth = RouteAuth(location: reader.location)
            for key in [
                "methods", "key_set", "tokens", "leeway", "origins", "clients", "claim_headers", "socket_id_header",
            ]
            where mapping.optional(key) != nil {
                auth.keyLocations[key] = mapping.location(of: key)
            }
            if let methods = mapping.optional("methods") {
                auth.methods =
                    methods.list { item in
                        guard let text = item.string() else { return nil }
                        guard let method = Method(rawValue: text) else {
                            item.fail("expected jwt or session, got \(item.quoted(text))")
                            return nil
                        }
                        return method
                    } ?? []
                if auth.methods.isEmpty { methods.fail("needs at least one of jwt, session") }
            }
            auth.keySet = mapping.optional("key_set")?.string()
            if let tokens = mapping.optional("tokens") {
                auth.tokenSources = tokens.list(TokenSource.decode) ?? []
            }
            auth.issuers = mapping.optional("issuers")?.list { $0.string() } ?? []
            auth.audiences = mapping.optional("audiences")?.list { $0.string() } ?? []
            auth.scopes = mapping.optional("scopes")?.list { $0.string() } ?? []
            if let leeway = mapping.optional("leeway") {
                if let value = leeway.duration(positive: false) {
                    if value > .seconds(300) {
                        leeway.fail(
                            "at most 5m: clocks that disagree more than that are a problem to fix, not to absorb")
                    } else {
                        auth.leeway = value
                    }
                }
            }
            if let headers = mapping.optional("claim_headers") {
                auth.claimHeaders =
                    headers.namedMapping { header, claim in
                        claim.string().map { ClaimHeader(header: header, claim: $0) }
                    }?
                    .values.compactMap { $0 }.sorted { $0.header < $1.header } ?? []
            }
            if let cookie = mapping.optional("session_cookie")?.string() {
                auth.sessionCookie = cookie
            }
            auth.origins = mapping.optional("origins")?.list { $0.origin() } ?? []
            auth.clients = auth.methods.contains(.session) ? .browser : .server
            if let clients = mapping.optional("clients"), let text = clients.string() {
                if let value = Clients(rawValue: text) {
                    auth.clients = value
                } else {
                    clients.fail("expected browser or server, got \(clients.quoted(text))")
                }
            }
            if let forward = mapping.optional("forward_authorization")?.bool() {
                auth.forwardAuthorization = forward
            }
            if let forward = mapping.optional("forward_cookie")?.bool() {
                auth.forwardCookie = forward
            }
            if let header = mapping.optional("socket_id_header") {
                auth.socketIDHeader = header.socketIDHeader()
            }
            return auth
        }
    }
}

extension RouteAuth.TokenSource {
    static func decode(_ reader: ConfigReader) -> RouteAuth.TokenSource? {
        guard let text = reader.string() else { return nil }
        switch text {
        case "header": return .header
        case "subprotocol": return .subprotocol
        case "socketio": return .socketIO
        default:
            if text.hasPrefix("query:"), text.count > 6 { return .query(String(text.dropFirst(6))) }
            if text.hasPrefix("cookie:"), text.count > 7 { return .cookie(String(text.dropFirst(7))) }
            reader.fail("expected header, query:NAME, cookie:NAME, subprotocol or socketio, got \(reader.quoted(text))")
            return nil
        }
    }
}

extension ConfigReader {
    /// A mapping whose keys are names chosen by the operator (not schema keys).
    func namedMapping<T>(_ body: (String, ConfigReader) -> T) -> [String: T]? {
        guard case .mapping(let mapping) = node else {
            fail("expected a mapping, got \(describeNode())")
            return nil
        }
        var result: [String: T] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else { continue }
            result[key] = body(key, child(value, key: key, line: keyNode.mark?.line ?? line))
        }
        return result
    }
}

extension ConfigReader {
    /// `https://app.example.com`, `http://localhost:3000` or `https://*.example.com`:
    /// scheme, host and optional port, nothing else (an Origin header never has a path).
    func origin() -> String? {
        guard let text = string() else { return nil }
        let lower = text.lowercased()
        let scheme = ["https://", "http://"].first { lower.hasPrefix($0) }
        var host = scheme.map { Substring(lower.dropFirst($0.count)) } ?? ""
        if host.hasPrefix("*.") { host = host.dropFirst(2) }
        if let colon = host.lastIndex(of: ":"), let port = Int(host[host.index(after: colon)...]),
            (1...65535).contains(port)
        {
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            scheme != nil && !labels.isEmpty
            && labels.allSatisfy { label in
                !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
        guard valid else {
            fail("expected an origin like https://app.example.com or https://*.example.com, got \(quoted(text))")
            return nil
        }
        return lower
    }
}

extension MappingReader {
    /// The file path at `key`, recorded for the validate pass's existence check.
    func recordedFile(_ key: String) -> String {
        guard let path = required(key)?.filePath() else { return "" }
        reader.decoder.fileReferences.append(FileReference(path: path, location: location(of: key)))
        return path
    }
}

extension ConfigReader {
    /// Headers the edge reads or states itself, which cannot carry a client's socket id.
    static let reservedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
        "trailer", "upgrade", "expect", "cookie", "authorization", "proxy-authorization", "origin",
        "x-auth-subject", "x-auth-scopes", "x-request-id", "x-forwarded-for", "x-forwarded-proto",
        "x-forwarded-host", "forwarded", "x-real-ip",
    ]

    /// `socket_id_header`: an HTTP field name (RFC 9110 token), lower-cased, that is none of
    /// the headers the edge reads or sets itself.
    func socketIDHeader() -> String? {
        guard let text = string() else { return nil }
        let tokenCharacters = Set("!#$%&'*+-.^_`|~")
        let isToken =
            !text.isEmpty
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || tokenCharacters.contains($0)) }
        guard isToken else {
            fail("expected a header name like x-socket-id, got \(quoted(text))")
            return nil
        }
        let name = text.lowercased()
        guard !Self.reservedHeaders.contains(name) else {
            fail("\(quoted(text)) is a header the edge reads or sets itself; name another, like x-socket-id")
            return nil
        }
        return name
    }
}
