import PortcullisHTTP

/// One fuzzer input split into the knobs it selects and the bytes the parsers see.
///
/// The first two bytes are not payload. Byte 0 picks the listener policy: bits 0-1 the
/// limits (``limitVariants``), bit 2 set turns `mergeSlashes` off, bits 3-4 the underscore
/// policy (keep, drop, reject, keep), bit 5 whether the payload, read as an upstream's
/// response, answers a HEAD request. Byte 1 seeds the read splits, its bits 0-1 choosing
/// their size (``splits(seed:total:)``).
/// Keeping the knobs in the input, rather than in a random generator, makes every crash
/// reproducible from its file alone and lets the fuzzer explore the small limits where
/// off-by-one bugs live. The payload points into libFuzzer's buffer: valid for one call.
struct FuzzCase {
    /// The head limits a listener may run with: the defaults, tight ones that inputs of
    /// a few hundred bytes can overrun, and ones in between.
    static let limitVariants: [HeadLimits] = [
        HeadLimits(),
        HeadLimits(maxRequestLine: 64, maxHeadSize: 256, maxFields: 4),
        HeadLimits(maxRequestLine: 16, maxHeadSize: 48, maxFields: 1),
        HeadLimits(maxRequestLine: 512, maxHeadSize: 1024, maxFields: 16),
    ]

    let policy: RequestPolicy
    let requestWasHead: Bool
    let splitSeed: UInt8
    let payload: UnsafeRawBufferPointer

    init(_ input: UnsafeRawBufferPointer) {
        let selector = input.count > 0 ? input[0] : 0
        splitSeed = input.count > 1 ? input[1] : 0
        payload = UnsafeRawBufferPointer(rebasing: input[min(2, input.count)...])
        let underscore = UnderscoreHeaders.allCases[Int(selector >> 3 & 0x03) % UnderscoreHeaders.allCases.count]
        policy = RequestPolicy(
            limits: Self.limitVariants[Int(selector & 0x03)],
            mergeSlashes: selector & 0x04 == 0,
            underscoreHeaders: underscore
        )
        requestWasHead = selector & 0x20 != 0
    }

    /// The lengths of the reads a streaming decoder would see for `total` bytes, derived
    /// from `seed`: one byte at a time, a few bytes, a few hundred, or all at once.
    static func splits(seed: UInt8, total: Int) -> [Int] {
        var generator = SplitGenerator(seed: seed)
        let largest: Int
        switch seed & 0x03 {
        case 0: largest = 1
        case 1: largest = 8
        case 2: largest = 200
        default: return total > 0 ? [total] : []
        }
        var lengths: [Int] = []
        var remaining = total
        while remaining > 0 {
            let length = min(remaining, 1 + generator.next(below: largest))
            lengths.append(length)
            remaining -= length
        }
        return lengths
    }
}
