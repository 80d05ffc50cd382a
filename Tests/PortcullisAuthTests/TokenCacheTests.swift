import Testing

@testable import PortcullisAuth

@Suite struct TokenCacheTests {
    let now = Double(Fixtures.now)

    @Test func secondVerificationIsACacheHitWithTheSameIdentity() throws {
        let cache = TokenCache(capacity: 10)
        let verifier = Fixtures.verifier(cache: cache)
        let token = Fixtures.token(.rs256)
        let first = try verifier.verify(token, now: now).get()
        let second = try verifier.verify(token, now: now + 1).get()
        #expect(first == second)
        #expect(cache.statistics.hits == 1)
        #expect(cache.statistics.misses == 1)
        #expect(cache.count == 1)
    }

    @Test func hitsStillApplyTheRoutePolicy() {
        let cache = TokenCache()
        let token = Fixtures.token(.es256, Fixtures.claims(scopes: ["chat:read"]))
        #expect(Fixtures.failure(Fixtures.verifier(cache: cache).verify(token, now: now)) == nil)
        let strict = JWTPolicy(audiences: ["edge"], requiredScopes: ["chat:read"])
        #expect(Fixtures.failure(Fixtures.verifier(strict, cache: cache).verify(token, now: now)) == .wrongAudience)
        let scoped = JWTPolicy(requiredScopes: ["admin"])
        #expect(Fixtures.failure(Fixtures.verifier(scoped, cache: cache).verify(token, now: now)) == .insufficientScope)
        #expect(cache.statistics.hits == 2)
    }

    @Test func entriesExpireAtTheTokensExp() {
        let cache = TokenCache()
        let token = Fixtures.token(.hs256, Fixtures.claims(expiresAt: Fixtures.now + 60))
        let verifier = Fixtures.verifier(JWTPolicy(leeway: 0), cache: cache)
        #expect(Fixtures.failure(verifier.verify(token, now: now)) == nil)
        #expect(cache.count == 1)
        #expect(Fixtures.failure(verifier.verify(token, now: now + 60)) == .expired)
        #expect(cache.statistics.hits == 0)
        #expect(cache.count == 0)
    }

    @Test func invalidTokensAreNeverCached() {
        let cache = TokenCache()
        let expired = Fixtures.token(.rs256, Fixtures.claims(expiresAt: Fixtures.now - 1000))
        _ = Fixtures.verifier(cache: cache).verify(expired, now: now)
        _ = Fixtures.verifier(cache: cache).verify(Fixtures.token(.rs256) + "A", now: now)
        #expect(cache.count == 0)
    }

    @Test func theCacheIsBounded() {
        let cache = TokenCache(capacity: 3)
        let verifier = Fixtures.verifier(cache: cache)
        for index in 0..<5 {
            _ = verifier.verify(Fixtures.token(.hs256, Fixtures.claims(subject: "user-\(index)")), now: now)
        }
        #expect(cache.count == 3)
        #expect(cache.statistics.evictions == 2)
    }

    @Test func recentlyUsedEntriesSurviveEviction() {
        let cache = TokenCache(capacity: 2)
        let verifier = Fixtures.verifier(cache: cache)
        let tokens = (0..<3).map { Fixtures.token(.hs256, Fixtures.claims(subject: "user-\($0)")) }
        _ = verifier.verify(tokens[0], now: now)
        _ = verifier.verify(tokens[1], now: now)
        _ = verifier.verify(tokens[0], now: now)  // hit: marks it referenced
        _ = verifier.verify(tokens[2], now: now)  // evicts tokens[1]
        let hits = cache.statistics.hits
        _ = verifier.verify(tokens[0], now: now)
        #expect(cache.statistics.hits == hits + 1)
        _ = verifier.verify(tokens[1], now: now)
        #expect(cache.statistics.hits == hits + 1)
    }

    @Test func aReloadedKeySetDoesNotReuseEntries() throws {
        let cache = TokenCache()
        let token = Fixtures.token(.rs256)
        _ = Fixtures.verifier(cache: cache).verify(token, now: now)
        let reloaded = try KeySet.load([KeySource(kind: .jwks, path: Fixtures.jwksPath)])
        _ = JWTVerifier(keys: reloaded, cache: cache).verify(token, now: now)
        #expect(cache.statistics.hits == 0)
        // With the signing key retired, the cached verification must not be served.
        let remaining = JSONValue.object(Fixtures.ec256.publicJWKObject!).serialized()
        let retired = try KeySet.load([
            KeySource(kind: .jwks, path: Fixtures.write("retired.json", #"{"keys":[\#(remaining)]}"#))
        ])
        #expect(Fixtures.failure(JWTVerifier(keys: retired, cache: cache).verify(token, now: now)) == .unknownKey)
    }

    @Test func concurrentVerificationsShareOneCache() async {
        let cache = TokenCache(capacity: 64)
        let verifier = Fixtures.verifier(cache: cache)
        let tokens = (0..<16).map { Fixtures.token(.es256, Fixtures.claims(subject: "user-\($0)")) }
        let now = now
        await withTaskGroup(of: Bool.self) { group in
            for round in 0..<200 {
                group.addTask { (try? verifier.verify(tokens[round % tokens.count], now: now).get()) != nil }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(cache.count == 16)
    }
}
