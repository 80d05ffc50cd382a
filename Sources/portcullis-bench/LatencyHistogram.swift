/// A log-linear histogram of nanosecond values, laid out like HdrHistogram with three
/// significant digits: values below 2048 are exact, larger ones share a bucket with values
/// less than 1/1024 apart.
///
/// Fixed memory (35,840 counters, up to 2^44 ns ≈ 4.9 h; larger values land in the last
/// bucket), constant-time `record`, and histograms of several phases or processes merge by
/// adding counters, which averages of percentiles cannot do.
struct LatencyHistogram: Sendable {
    private static let subBucketBits = 11
    private static let subBucketCount = 1 << subBucketBits
    private static let halfCount = subBucketCount / 2
    private static let maximumBits = 44
    private static let bucketCount = (maximumBits - subBucketBits + 2) * halfCount

    private var counts: [UInt64]
    private(set) var count: UInt64 = 0
    private(set) var minimum: UInt64 = .max
    private(set) var maximum: UInt64 = 0
    private var sum: Double = 0

    init() {
        self.counts = Array(repeating: 0, count: Self.bucketCount)
    }

    var mean: Double { self.count == 0 ? 0 : self.sum / Double(self.count) }

    mutating func record(_ value: UInt64) {
        self.counts[Self.index(of: value)] += 1
        self.count += 1
        self.sum += Double(value)
        self.minimum = Swift.min(self.minimum, value)
        self.maximum = Swift.max(self.maximum, value)
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in other.counts.indices where other.counts[index] != 0 {
            self.counts[index] += other.counts[index]
        }
        self.count += other.count
        self.sum += other.sum
        self.minimum = Swift.min(self.minimum, other.minimum)
        self.maximum = Swift.max(self.maximum, other.maximum)
    }

    /// The value at `percent` (0–100): the smallest bucket holding that share of the
    /// values, reported as its midpoint and never above the largest value recorded.
    func percentile(_ percent: Double) -> UInt64 {
        guard self.count > 0 else { return 0 }
        if percent >= 100 { return self.maximum }
        let rank = Swift.max(1, UInt64((percent / 100 * Double(self.count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in self.counts.indices where self.counts[index] != 0 {
            seen += self.counts[index]
            if seen >= rank {
                return Swift.min(Self.midpoint(of: index), self.maximum)
            }
        }
        return self.maximum
    }

    static func index(of value: UInt64) -> Int {
        if value < UInt64(subBucketCount) { return Int(value) }
        let bits = 64 - value.leadingZeroBitCount
        let shift = bits - subBucketBits
        let index = (shift + 1) * halfCount + Int(value >> UInt64(shift)) - halfCount
        return Swift.min(index, bucketCount - 1)
    }

    private static func midpoint(of index: Int) -> UInt64 {
        if index < subBucketCount { return UInt64(index) }
        let shift = index / halfCount - 1
        let low = UInt64(index - (shift + 1) * halfCount + halfCount) << UInt64(shift)
        return low + (UInt64(1) << UInt64(shift)) / 2
    }
}

extension LatencyHistogram {
    /// The figures every report prints, in microseconds.
    var summary: LatencySummary {
        LatencySummary(
            count: self.count,
            p50Us: Self.micros(self.percentile(50)),
            p90Us: Self.micros(self.percentile(90)),
            p99Us: Self.micros(self.percentile(99)),
            p999Us: Self.micros(self.percentile(99.9)),
            maxUs: Self.micros(self.maximum),
            minUs: self.count == 0 ? 0 : Self.micros(self.minimum),
            meanUs: (self.mean / 100).rounded() / 10
        )
    }

    private static func micros(_ nanoseconds: UInt64) -> Double {
        (Double(nanoseconds) / 100).rounded() / 10
    }
}
