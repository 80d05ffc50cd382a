import PortcullisWire
import Testing

@Suite struct MessageRateLimiterTests {
    typealias Limiter = MessageRateLimiter<FakeInstant>

    @Test func burstIsAcceptedThenMessagesAreRefused() {
        var limiter = Limiter(rate: 10, burst: 3, closeAfter: 5, now: .zero)
        #expect((0..<3).map { _ in limiter.message(now: .zero) } == [.accept, .accept, .accept])
        #expect(limiter.message(now: .zero) == .refuse)
    }

    @Test func tokensRefillAtTheRate() {
        var limiter = Limiter(rate: 10, burst: 1, closeAfter: 5, now: .zero)
        #expect(limiter.message(now: .zero) == .accept)
        #expect(limiter.message(now: .zero.advanced(by: .milliseconds(50))) == .refuse)
        #expect(limiter.message(now: .zero.advanced(by: .milliseconds(100))) == .accept)
    }

    @Test func refillNeverExceedsTheBurst() {
        var limiter = Limiter(rate: 100, burst: 2, closeAfter: 10, now: .zero)
        let later = FakeInstant.zero.advanced(by: .seconds(60))
        #expect((0..<3).map { _ in limiter.message(now: later) } == [.accept, .accept, .refuse])
    }

    @Test func persistentRefusalsClose() {
        var limiter = Limiter(rate: 1, burst: 1, closeAfter: 3, now: .zero)
        #expect(limiter.message(now: .zero) == .accept)
        #expect(limiter.message(now: .zero) == .refuse)
        #expect(limiter.message(now: .zero) == .refuse)
        #expect(limiter.message(now: .zero) == .close)
    }

    @Test func anAcceptedMessageResetsTheRefusalCount() {
        var limiter = Limiter(rate: 1, burst: 1, closeAfter: 2, now: .zero)
        #expect(limiter.message(now: .zero) == .accept)
        #expect(limiter.message(now: .zero) == .refuse)
        #expect(limiter.message(now: .zero.advanced(by: .seconds(1))) == .accept)
        #expect(limiter.message(now: .zero.advanced(by: .seconds(1))) == .refuse)
    }
}
