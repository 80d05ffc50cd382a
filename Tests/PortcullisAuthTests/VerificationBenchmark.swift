#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Testing

@testable import PortcullisAuth

/// Single-thread verification throughput. Off unless PORTCULLIS_AUTH_BENCH=1; run it
/// in a release build:
///
///     PORTCULLIS_AUTH_BENCH=1 swift test -c release -Xswiftc -enable-testing \
///         --filter VerificationBenchmark
@Suite(.serialized, .enabled(if: getenv("PORTCULLIS_AUTH_BENCH") != nil))
struct VerificationBenchmark {
    static let tokenCount = 1000
    static let passes = 5

    private static func seconds() -> Double {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }

    private static func measure(_ label: String, count: Int, _ body: () -> Void) -> Double {
        let start = seconds()
        body()
        let rate = Double(count) / (seconds() - start)
        print("bench \(label): \(Int(rate)) verifications/s on one core")
        return rate
    }

    @Test(arguments: [JWTAlgorithm.hs256, .rs256, .es256])
    func distinctTokensPerSecond(algorithm: JWTAlgorithm) {
        let tokens = (0..<Self.tokenCount).map {
            Fixtures.token(algorithm, Fixtures.claims(subject: "user-\($0)", scopes: ["chat:read", "chat:write"]))
        }
        let verifier = Fixtures.verifier(JWTPolicy(requiredScopes: ["chat:read"]))
        let now = Double(Fixtures.now)
        var failures = 0
        let rate = Self.measure("\(algorithm) distinct", count: tokens.count * Self.passes) {
            for _ in 0..<Self.passes {
                for token in tokens {
                    if case .failure = verifier.verify(token, now: now) { failures += 1 }
                }
            }
        }
        #expect(failures == 0)
        #expect(rate > 100)
    }

    @Test(arguments: [JWTAlgorithm.rs256, .es256])
    func cachedTokensPerSecond(algorithm: JWTAlgorithm) {
        let tokens = (0..<100).map { Fixtures.token(algorithm, Fixtures.claims(subject: "user-\($0)")) }
        let cache = TokenCache(capacity: 1000)
        let verifier = Fixtures.verifier(cache: cache)
        let now = Double(Fixtures.now)
        for token in tokens { _ = verifier.verify(token, now: now) }
        let rounds = 500
        var failures = 0
        _ = Self.measure("\(algorithm) cache hit", count: tokens.count * rounds) {
            for _ in 0..<rounds {
                for token in tokens {
                    if case .failure = verifier.verify(token, now: now) { failures += 1 }
                }
            }
        }
        #expect(failures == 0)
        #expect(cache.statistics.hits == tokens.count * rounds)
    }
}
