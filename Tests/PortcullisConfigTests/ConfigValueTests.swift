import PortcullisConfig
import Testing

@Suite struct ConfigValueTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("1d", .seconds(86400)),
        ("1m30s", .seconds(90)),
        ("1h2m3s4ms", .milliseconds(3_723_004)),
        ("0s", .zero),
    ])
    func durationsWithUnitsParse(text: String, expected: Duration) {
        #expect(ConfigValue.duration(text) == expected)
    }

    @Test(arguments: [
        "", "30", "s", "1.5s", "-1s", "30 s", "30sec", "1s1m", "1s1s", "ms", "1x", " 1s", "99999999999999999999d",
    ])
    func durationsWithoutAValidUnitAreRejected(text: String) {
        #expect(ConfigValue.duration(text) == nil)
    }

    @Test(arguments: [
        ("512", 512),
        ("512B", 512),
        ("64KiB", 64 * 1024),
        ("1MiB", 1 << 20),
        ("1GiB", 1 << 30),
        ("10KB", 10_000),
        ("1MB", 1_000_000),
        ("1GB", 1_000_000_000),
        ("0", 0),
    ])
    func sizesParse(text: String, expected: Int) {
        #expect(ConfigValue.size(text) == expected)
    }

    @Test(arguments: ["", "KiB", "1.5MiB", "-1", "10kb", "10 KiB", "1TiB", "1KiBs", "99999999999999999999GiB"])
    func malformedSizesAreRejected(text: String) {
        #expect(ConfigValue.size(text) == nil)
    }

    @Test(arguments: [
        ("0.0.0.0:8443", HostPort(host: "0.0.0.0", port: 8443)),
        ("[::1]:8080", HostPort(host: "::1", port: 8080)),
        ("[fe80::1%eth0]:80", HostPort(host: "fe80::1%eth0", port: 80)),
        ("localhost:80", HostPort(host: "localhost", port: 80)),
        ("api.internal:0", HostPort(host: "api.internal", port: 0)),
        ("10.1.2.3:65535", HostPort(host: "10.1.2.3", port: 65535)),
    ])
    func hostPortsParse(text: String, expected: HostPort) {
        #expect(ConfigValue.hostPort(text) == expected)
    }

    @Test(arguments: [
        "localhost", ":80", "localhost:", "localhost:65536", "localhost:-1", "localhost:8o", "::1:80", "[::1]",
        "[::1]80", "[nothex::1]:80", "300.1.1.1:80", "bad host:80", "a..b:80", "http://x:80",
    ])
    func malformedHostPortsAreRejected(text: String) {
        #expect(ConfigValue.hostPort(text) == nil)
    }

    @Test func hostPortDescriptionBracketsIPv6() {
        #expect(ConfigValue.hostPort("[::1]:8080")?.description == "[::1]:8080")
        #expect(ConfigValue.hostPort("127.0.0.1:8080")?.description == "127.0.0.1:8080")
    }
}
