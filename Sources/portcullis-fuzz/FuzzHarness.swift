import PortcullisHTTP

/// Drives one input through the strict request path in the order the edge's decoder
/// does: head scan over streamed reads, parse, validate, then the chunked body decoder
/// over whatever follows. Path normalization runs on the pieces the parser produced and
/// on the raw payload, so it is fuzzed even where the head is not well formed; the same
/// payload is also read as an upstream's response (head, then body).
enum FuzzHarness {
    static func run(_ input: FuzzCase) {
        let payload = input.payload
        let policy = input.policy
        if let text = String(validating: payload, as: UTF8.self) {
            PathChecks.check(text)
        }
        ProxyProtocolChecks.check(payload)
        let stream = HeadChecks.scanStreaming(
            payload, limits: policy.limits, reads: FuzzCase.splits(seed: input.splitSeed, total: payload.count))
        var bodyStart = 0
        if case .complete(let length) = stream.scan {
            let rest = UnsafeRawBufferPointer(rebasing: payload[stream.start...])
            if let head = HeadChecks.parse(rest, headLength: length, limits: policy.limits) {
                PathChecks.check(head.target)
                if let request = HeadChecks.validate(head, policy: policy) {
                    ResponseChecks.checkAccepted(request)
                }
            }
            bodyStart = stream.start + length
        } else {
            HeadChecks.parseAnything(payload, limits: policy.limits)
        }
        ResponseChecks.check(
            payload, reads: FuzzCase.splits(seed: input.splitSeed, total: payload.count),
            requestWasHead: input.requestWasHead)
        let body = UnsafeRawBufferPointer(rebasing: payload[bodyStart...])
        // Rotated, so the body is not cut at the same offsets as the head was.
        let bodySeed = input.splitSeed >> 2 | input.splitSeed << 6
        ChunkedChecks.check(body, limits: policy.limits, reads: FuzzCase.splits(seed: bodySeed, total: body.count))
    }
}
