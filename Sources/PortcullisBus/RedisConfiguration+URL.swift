extension RedisConfiguration {
    /// Parses a Redis URL. Accepted forms:
    ///
    /// - `redis://[[user]:password@]host[:port][/db][?db=N]` — TCP; port defaults to 6379,
    ///   db to 0. An IPv6 host is written in brackets: `redis://[::1]:6379`.
    /// - `rediss://…` — the same over TLS; ``tls`` is set to the defaults (the system's trust
    ///   roots, the host as the verification name): set its fields on the result.
    /// - `unix://[[user]:password@]/path/to/redis.sock[?db=N]` — Unix domain socket; the
    ///   scheme `redis+unix://` is accepted as a synonym.
    ///
    /// User and password are percent-decoded. A user without a password is rejected (AUTH
    /// needs a password). Other settings (timeouts, backoff, buffer limits) keep their
    /// defaults; set them on the result.
    public init(url: String) throws {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw Self.invalid(url, "missing scheme (redis://, rediss:// or unix://)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])

        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }

        let endpoint: Endpoint
        let credentials: (user: String?, password: String?)
        var database = 0
        switch scheme {
        case "redis", "rediss":
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            let (userInfo, hostPort) = Self.splitUserInfo(rest[..<authorityEnd])
            credentials = try Self.parseCredentials(userInfo, url: url)
            endpoint = try Self.parseHostPort(hostPort, url: url)
            let path = rest[authorityEnd...].dropFirst()
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw Self.invalid(url, "the path must be a database number")
                }
                database = number
            }
        case "unix", "redis+unix":
            guard let pathStart = rest.firstIndex(of: "/") else {
                throw Self.invalid(url, "missing socket path")
            }
            let authority = rest[..<pathStart]
            if authority.isEmpty {
                credentials = (nil, nil)
            } else {
                guard authority.hasSuffix("@") else {
                    throw Self.invalid(url, "a unix URL has no host; write unix:///path/to.sock")
                }
                credentials = try Self.parseCredentials(authority.dropLast(), url: url)
            }
            guard let path = Self.percentDecoded(rest[pathStart...]), path.count > 1 else {
                throw Self.invalid(url, "invalid socket path")
            }
            endpoint = .unixSocket(path: path)
        default:
            throw Self.invalid(url, "unknown scheme '\(scheme)' (use redis://, rediss:// or unix://)")
        }

        for item in query.split(separator: "&") where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "db" else {
                throw Self.invalid(url, "unknown query parameter '\(pair[0])' (only db is supported)")
            }
            guard let number = Int(pair[1]), number >= 0 else {
                throw Self.invalid(url, "db must be a database number")
            }
            database = number
        }

        self.init(
            endpoint: endpoint,
            username: credentials.user,
            password: credentials.password,
            database: database,
            tls: scheme == "rediss" ? TLS() : nil
        )
    }

    private static func invalid(_ url: String, _ reason: String) -> RedisError {
        // Never echo the URL itself: it may carry a password.
        RedisError(code: .invalidURL, message: "invalid Redis URL: \(reason)")
    }

    /// Splits `user:password@host:port` at the last `@`.
    private static func splitUserInfo(_ authority: Substring) -> (userInfo: Substring?, hostPort: Substring) {
        guard let at = authority.lastIndex(of: "@") else { return (nil, authority) }
        return (authority[..<at], authority[authority.index(after: at)...])
    }

    private static func parseCredentials(
        _ userInfo: Substring?,
        url: String
    ) throws -> (user: String?, password: String?) {
        guard let userInfo else { return (nil, nil) }
        let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let user = Self.percentDecoded(parts[0]) else {
            throw Self.invalid(url, "invalid percent-encoding in the user")
        }
        guard parts.count == 2 else {
            throw Self.invalid(url, "a user needs a password (user:password@)")
        }
        guard let password = Self.percentDecoded(parts[1]) else {
            throw Self.invalid(url, "invalid percent-encoding in the password")
        }
        return (user.isEmpty ? nil : user, password)
    }

    private static func parseHostPort(_ hostPort: Substring, url: String) throws -> Endpoint {
        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw Self.invalid(url, "unterminated IPv6 address")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid(url, "junk after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw Self.invalid(url, "missing host") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw Self.invalid(url, "invalid port")
            }
            port = number
        }
        return .tcp(host: String(host), port: port)
    }

    /// Decodes `%XX` escapes; nil when an escape is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
