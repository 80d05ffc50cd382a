import PortcullisConfig
import Testing

/// The edge's `redis:` keys: ACL credentials from files and TLS for `rediss://`.
@Suite struct RedisConfigTests {
    private func conf(_ redis: String) -> String {
        """
        version: 1
        listeners:
          - { name: public, address: "127.0.0.1:8080" }
        upstreams:
          app: { servers: ["127.0.0.1:3000"] }
        routes: []
        \(redis)
        """
    }

    @Test func aUsernameAndPasswordFileAreReadAtLoadWithOneNewlineTrimmed() throws {
        let conf = try ConfDirectory()
        try conf.write("secrets/redis.pw", "s3cret pass\n")
        try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: redis://127.0.0.1:6379/0
                  username: portcullis
                  password_file: secrets/redis.pw
                """))
        let redis = try #require(try conf.load("main.yaml").redis)
        #expect(redis.username == "portcullis")
        #expect(redis.password == "s3cret pass")
        #expect(redis.tls == nil)
    }

    @Test func aPasswordFileAndAPasswordInTheURLAreRefused() throws {
        let conf = try ConfDirectory()
        try conf.write("redis.pw", "secret\n")
        let file = try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: redis://:other@127.0.0.1:6379/0
                  password_file: redis.pw
                """))
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):9: redis.password_file: the password is already in redis.url: give either credentials "
                    + "in the URL or username/password_file, not both"
            ])
    }

    @Test func aUsernameNeedsAPasswordFileAndAnUnreadableFileIsNamed() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: redis://127.0.0.1:6379/0
                  username: portcullis
                """))
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):9: redis.username: a username needs password_file (AUTH takes a user and a password)"
            ])
        let other = try conf.write(
            "other.yaml",
            self.conf(
                """
                redis:
                  url: redis://127.0.0.1:6379/0
                  password_file: missing.pw
                """))
        #expect(
            conf.errors(loading: "other.yaml") == [
                "\(other):9: redis.password_file: cannot read \(conf.path("missing.pw")): no such file or directory"
            ])
    }

    @Test func redissTakesTLSFilesAndAServerName() throws {
        let conf = try ConfDirectory()
        try conf.write("tls/ca.pem", "-----BEGIN CERTIFICATE-----\n")
        try conf.write("tls/client.pem", "-----BEGIN CERTIFICATE-----\n")
        try conf.write("tls/client.key", "-----BEGIN PRIVATE KEY-----\n")
        try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: rediss://redis.internal:6380/0
                  tls:
                    ca_file: tls/ca.pem
                    certificate_file: tls/client.pem
                    private_key_file: tls/client.key
                    server_name: redis.internal
                """))
        let tls = try #require(try conf.load("main.yaml").redis?.tls)
        #expect(tls.caFile == conf.path("tls/ca.pem"))
        #expect(tls.certificateFile == conf.path("tls/client.pem"))
        #expect(tls.privateKeyFile == conf.path("tls/client.key"))
        #expect(tls.serverName == "redis.internal")

        try conf.write("plain.yaml", self.conf("redis:\n  url: rediss://redis.internal:6380/0"))
        #expect(try conf.load("plain.yaml").redis?.tls == RedisSettings.TLS())
    }

    @Test func tlsMistakesAreReportedWithTheirKeys() throws {
        let conf = try ConfDirectory()
        try conf.write("client.pem", "-----BEGIN CERTIFICATE-----\n")
        let file = try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: rediss://127.0.0.1:6380/0
                  tls:
                    ca_file: nowhere/ca.pem
                    certificate_file: client.pem
                    server_name: 10.0.0.1
                """))
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):10: redis.tls.ca_file: cannot read \(conf.path("nowhere/ca.pem")): no such file or directory",
                "\(file):11: redis.tls.certificate_file: a client certificate needs both certificate_file and "
                    + "private_key_file",
                "\(file):12: redis.tls.server_name: expected a DNS name such as redis.internal, got \"10.0.0.1\"",
            ])
        let plain = try conf.write(
            "plain.yaml",
            self.conf(
                """
                redis:
                  url: redis://127.0.0.1:6379/0
                  tls: { server_name: redis.internal }
                """))
        #expect(conf.errors(loading: "plain.yaml") == ["\(plain):9: redis.tls: TLS needs a rediss:// URL in redis.url"])
    }

    @Test func sentinelsAndAMasterNameGoTogether() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            self.conf(
                """
                redis:
                  url: redis://redis/0
                  sentinels: ["10.0.0.1:26379", "10.0.0.2:26379"]
                  master_name: portcullis
                """))
        let sentinel = try #require(try conf.load("main.yaml").redis?.sentinel)
        #expect(sentinel.addresses.map(\.description) == ["10.0.0.1:26379", "10.0.0.2:26379"])
        #expect(sentinel.masterName == "portcullis")

        let file = try conf.write(
            "bad.yaml",
            self.conf(
                """
                redis:
                  url: redis://redis/0
                  sentinels: ["10.0.0.1"]
                """))
        #expect(
            conf.errors(loading: "bad.yaml") == ["\(file):9: redis.sentinels: sentinels and master_name go together"])
        let unix = try conf.write(
            "unix.yaml",
            self.conf(
                """
                redis:
                  url: unix:///run/redis.sock
                  sentinels: ["10.0.0.1:26379"]
                  master_name: portcullis
                """))
        #expect(
            conf.errors(loading: "unix.yaml") == [
                "\(unix):9: redis.sentinels: sentinels need a redis:// or rediss:// URL (the master is reached over TCP)"
            ])
    }

    @Test func clusterSeedsTakeTheURLsCredentialsButNotADatabaseOrSentinels() throws {
        let conf = try ConfDirectory()
        try conf.write("main.yaml", self.redis("url: redis://redis/0", #"cluster: ["10.0.0.1:7000", "10.0.0.2:7000"]"#))
        let cluster = try #require(try conf.load("main.yaml").redis?.cluster)
        #expect(cluster.seeds.map(\.description) == ["10.0.0.1:7000", "10.0.0.2:7000"])

        // (file, the lines of `redis:`, the line and message of the one error)
        let mistakes: [(String, [String], Int, String)] = [
            (
                "database.yaml", ["url: redis://redis/3", #"cluster: ["10.0.0.1:7000"]"#], 9,
                "a Redis Cluster has database 0 only: drop /3 from redis.url"
            ),
            (
                "both.yaml",
                [
                    "url: redis://redis/0", #"sentinels: ["10.0.0.1:26379"]"#, "master_name: portcullis",
                    #"cluster: ["10.0.0.1:7000"]"#,
                ], 11, "cluster and sentinels exclude each other: a cluster fails over by itself"
            ),
            ("empty.yaml", ["url: redis://redis/0", "cluster: []"], 9, "needs at least one host:port"),
        ]
        for (name, lines, line, message) in mistakes {
            let file = try conf.write(name, self.redis(lines))
            #expect(conf.errors(loading: name) == ["\(file):\(line): redis.cluster: \(message)"])
        }
    }

    /// A conf file whose `redis:` holds `lines`.
    private func redis(_ lines: String...) -> String {
        self.redis(lines)
    }

    private func redis(_ lines: [String]) -> String {
        self.conf((["redis:"] + lines.map { "  \($0)" }).joined(separator: "\n"))
    }
}
