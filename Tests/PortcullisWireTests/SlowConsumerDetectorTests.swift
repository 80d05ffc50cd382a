import PortcullisWire
import Testing

@Suite struct SlowConsumerDetectorTests {
    typealias Detector = SlowConsumerDetector<FakeInstant>

    private func at(milliseconds: Int64) -> FakeInstant {
        .zero.advanced(by: .milliseconds(milliseconds))
    }

    @Test func aClientThatKeepsUpIsNeverClosed() {
        var detector = Detector(grace: .seconds(1))
        #expect(detector.check(now: at(milliseconds: 60_000)) == .none)
        #expect(detector.deadline == nil)
    }

    @Test func aBacklogThatLastsTheGraceCloses() {
        var detector = Detector(grace: .seconds(1))
        detector.backlogExceeded(now: at(milliseconds: 100))
        #expect(detector.deadline == at(milliseconds: 1100))
        #expect(detector.check(now: at(milliseconds: 1099)) == .none)
        #expect(detector.check(now: at(milliseconds: 1100)) == .close)
    }

    @Test func aBurstThatDrainsWithinTheGraceIsForgiven() {
        var detector = Detector(grace: .seconds(1))
        detector.backlogExceeded(now: at(milliseconds: 0))
        #expect(detector.check(now: at(milliseconds: 10)) == .none)
        detector.backlogDrained()
        #expect(detector.deadline == nil)
        #expect(detector.check(now: at(milliseconds: 5000)) == .none)
    }

    @Test func eachNewBacklogGetsAFreshGrace() {
        var detector = Detector(grace: .seconds(1))
        detector.backlogExceeded(now: at(milliseconds: 0))
        detector.backlogDrained()
        detector.backlogExceeded(now: at(milliseconds: 900))
        #expect(detector.check(now: at(milliseconds: 1500)) == .none)
        #expect(detector.check(now: at(milliseconds: 1900)) == .close)
    }

    @Test func moreWritesWhileBehindDoNotRestartTheGrace() {
        var detector = Detector(grace: .seconds(1))
        detector.backlogExceeded(now: at(milliseconds: 0))
        detector.backlogExceeded(now: at(milliseconds: 800))
        #expect(detector.check(now: at(milliseconds: 1000)) == .close)
    }

    @Test func itClosesOnceAndThenStaysQuiet() {
        var detector = Detector(grace: .zero)
        detector.backlogExceeded(now: at(milliseconds: 0))
        #expect(detector.check(now: at(milliseconds: 0)) == .close)
        #expect(detector.check(now: at(milliseconds: 10)) == .none)
        detector.backlogDrained()
        detector.backlogExceeded(now: at(milliseconds: 20))
        #expect(detector.check(now: at(milliseconds: 5000)) == .none)
        #expect(detector.deadline == nil)
    }
}
