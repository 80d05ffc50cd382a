import Testing

@testable import PortcullisBus

@Suite struct RedisConfigurationURLTests {
    @Test func tcpURLWithUserPasswordAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:s%40cret%3A1@redis.internal:6380/3")
        #expect(configuration.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s@cret:1")
        #expect(configuration.database == 3)
    }

    @Test func passwordOnlyAndDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://:pw@localhost")
        #expect(configuration.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(configuration.username == nil)
        #expect(configuration.password == "pw")
        #expect(configuration.database == 0)
    }

    @Test func ipv6HostInBrackets() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:7000/0")
        #expect(configuration.endpoint == .tcp(host: "::1", port: 7000))
        #expect(configuration.endpoint.description == "[::1]:7000")
    }

    @Test(arguments: ["unix:///run/redis/redis.sock?db=2", "redis+unix:///run/redis/redis.sock?db=2"])
    func unixSocketURL(url: String) throws {
        let configuration = try RedisConfiguration(url: url)
        #expect(configuration.endpoint == .unixSocket(path: "/run/redis/redis.sock"))
        #expect(configuration.database == 2)
        #expect(configuration.password == nil)
    }

    @Test func unixSocketURLWithCredentials() throws {
        let configuration = try RedisConfiguration(url: "unix://bob:pw@/tmp/r.sock")
        #expect(configuration.endpoint.socketPath == "/tmp/r.sock")
        #expect(configuration.username == "bob")
        #expect(configuration.password == "pw")
    }

    @Test(arguments: [
        "localhost:6379", "rediss://", "http://host", "redis://", "redis://host:0", "redis://host:99999",
        "redis://host/x", "redis://user@host", "redis://host?timeout=3", "unix://host/path", "redis://:p%zz@host",
    ])
    func invalidURLIsRejectedWithoutEchoingIt(url: String) {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains(url) == false)
    }
}

@Suite struct StreamIDTests {
    @Test func parsesAndPrints() {
        #expect(StreamID("1718000000000-7") == StreamID(milliseconds: 1_718_000_000_000, sequence: 7))
        #expect(StreamID("5") == StreamID(milliseconds: 5, sequence: 0))
        #expect(StreamID(milliseconds: 1, sequence: 2).description == "1-2")
        #expect(StreamID("18446744073709551615-18446744073709551615") == .max)
    }

    @Test(arguments: ["", "-", "1-", "-1", "a-1", "1-b", "1-2-3", "+", "18446744073709551616-0", " 1-1"])
    func rejectsMalformed(text: String) {
        #expect(StreamID(text) == nil)
    }

    @Test func ordersNumericallyNotAsText() {
        #expect(StreamID("5-9")! < StreamID("5-10")!)
        #expect(StreamID("9-0")! < StreamID("10-0")!)
        #expect(StreamID("1-5")!.successor == StreamID("1-6"))
        #expect(StreamID.max.successor == nil)
    }
}
