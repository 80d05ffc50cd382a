/// Follows an upstream response's body through the reads it arrives in, by the framing its
/// head declared, so the edge can relay the bytes as they are and know where the body ends.
///
/// A chunked body is checked chunk by chunk (``ChunkedBodyDecoder``) while it passes; each
/// ``Step`` names both the bytes consumed, to relay unchanged, and the payload among them,
/// for a client that cannot take chunked framing (HTTP/1.0).
public struct ResponseBodyReader: Sendable {
    public struct Step: Equatable, Sendable {
        /// Bytes at the start of the buffer given that belong to the body.
        public var consumed: Int
        /// The payload among them (chunk framing excluded).
        public var data: Range<Int>
        /// The body ended with these bytes; any bytes after them are not part of it.
        public var ended: Bool
    }

    private enum State: Sendable {
        case length(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case done
    }

    private var state: State

    public init(_ body: ResponseHead.Body) {
        switch body {
        case .none, .length(0): state = .done
        case .length(let count): state = .length(remaining: count)
        case .chunked:
            state = .chunked(ChunkedBodyDecoder(forbiddenTrailers: ChunkedBodyDecoder.responseForbiddenTrailers))
        case .untilClose: state = .untilClose
        }
    }

    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Reads from the start of `bytes`; call again with what remains until the step has
    /// consumed everything or ended the body.
    public mutating func read(_ bytes: UnsafeRawBufferPointer) -> Result<Step, ResponseProblem> {
        switch state {
        case .done:
            return .success(Step(consumed: 0, data: 0..<0, ended: true))
        case .untilClose:
            return .success(Step(consumed: bytes.count, data: 0..<bytes.count, ended: false))
        case .length(let remaining):
            let count = min(remaining, bytes.count)
            state = count == remaining ? .done : .length(remaining: remaining - count)
            return .success(Step(consumed: count, data: 0..<count, ended: count == remaining))
        case .chunked(var decoder):
            let (consumed, step) = decoder.decode(bytes)
            state = .chunked(decoder)
            switch step {
            case .data(let offset, let count):
                return .success(Step(consumed: consumed, data: offset..<(offset + count), ended: false))
            case .needMore:
                return .success(Step(consumed: consumed, data: consumed..<consumed, ended: false))
            case .end:
                state = .done
                return .success(Step(consumed: consumed, data: consumed..<consumed, ended: true))
            case .refused(let refusal):
                return .failure(ResponseProblem("chunked response body: \(refusal.detail)"))
            }
        }
    }

    /// The upstream closed its connection: whether that was the body's proper end (a body
    /// delimited by the close) rather than a truncation.
    public mutating func closed() -> Bool {
        switch state {
        case .untilClose, .done:
            state = .done
            return true
        case .length, .chunked:
            return false
        }
    }
}
