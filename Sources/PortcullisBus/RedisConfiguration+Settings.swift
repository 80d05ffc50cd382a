import PortcullisConfig

extension RedisConfiguration {
    /// The configuration a conf file's `redis:` describes (the edge's and `rooms.yaml`'s):
    /// the URL, then `username` and the `password_file` contents, then the `tls` files.
    ///
    /// Throws ``RedisError/Code/invalidURL`` when the URL does not parse; the message never
    /// repeats the URL, which may hold a password.
    public init(settings: RedisSettings) throws {
        try self.init(url: settings.url)
        if let password = settings.password {
            self.username = settings.username
            self.password = password
        }
        if let tls = settings.tls {
            self.tls = tls
        }
        self.sentinel = settings.sentinel
        self.cluster = settings.cluster
    }
}
