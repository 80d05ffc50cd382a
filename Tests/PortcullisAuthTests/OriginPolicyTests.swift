import Testing

@testable import PortcullisAuth

@Suite struct OriginPolicyTests {
    let policy = try! OriginPolicy(
        allowed: ["https://app.example.com", "http://localhost:3000", "https://*.example.org", "https://[::1]:8443"],
        mode: .browser)

    @Test(arguments: [
        "https://app.example.com", "HTTPS://APP.Example.COM", "https://app.example.com:443", "http://localhost:3000",
        "https://a.example.org", "https://a.b.example.org", "https://[::1]:8443",
    ])
    func allowedOriginsMatch(origin: String) {
        #expect(policy.allows(origin))
    }

    @Test(arguments: [
        "https://example.org",  // the wildcard's own domain
        "https://example.org.evil.net", "https://evil-example.org", "https://evilexample.org",
        "http://a.example.org",  // another scheme
        "https://a.example.org:8443",  // another port
        "https://app.example.com:8443", "http://app.example.com", "https://app.example.com.evil.net",
        "https://app.example.com/", "https://user@app.example.com", "https://.example.org",
        "http://localhost:3001", "http://localhost", "https://app.example.com.", "file://app.example.com",
        "https://[::2]:8443", "",
    ])
    func lookAlikeOriginsAreRefused(origin: String) {
        let failure = policy.check(origin)
        #expect(failure?.code == .originNotAllowed)
        #expect(failure?.httpStatus == 403)
        #expect(failure?.wwwAuthenticate == nil)
    }

    @Test func missingOrNullOriginIsRefusedInBrowserModeOnly() throws {
        #expect(policy.check(nil)?.code == .originNotAllowed)
        #expect(policy.check("null")?.code == .originNotAllowed)
        let server = try OriginPolicy(allowed: ["https://app.example.com"], mode: .server)
        #expect(server.allows(nil))
        #expect(server.allows("null"))
        #expect(!server.allows("https://evil.example.net"))
        #expect(server.allows("https://app.example.com"))
    }

    @Test(arguments: ["app.example.com", "https://", "ftp://example.com", "https://*.com", "https://*.", "https://a/b"])
    func invalidEntriesAreRefused(entry: String) {
        #expect(throws: OriginPolicy.InvalidEntry.self) { try OriginPolicy(allowed: [entry], mode: .browser) }
    }
}
