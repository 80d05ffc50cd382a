import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// A request part as the proxy receives it: the canonical head, body bytes, the end (with
/// trailers), or a refusal (the decoder has stopped; the connection must close).
enum ClientRequestPart {
    case head(HTTPRequestHead)
    case body(ByteBuffer)
    case end(HTTPHeaders?)
    /// `inBody`: the refusal concerns the body of the request whose head came last, not a
    /// new request.
    case refused(RequestRefusal, inBody: Bool)
}

/// The client side's HTTP/1.1 request decoder: ``RequestHeadParser``,
/// ``RequestValidator`` and ``ChunkedBodyDecoder`` over the connection's bytes.
///
/// A pure value the proxy handler owns and calls directly (no decoder handler in the
/// pipeline, so a request crosses no handler boundary before the proxy sees it). Every rule
/// of the strict request path lives in the pure `PortcullisHTTP` module: the head the
/// proxy sees is already canonical (normalized target, one `Host`, the edge's own
/// framing). After an upgrade request it stops and leaves the following bytes in the
/// buffer for whatever replaces HTTP on the connection. After a refusal it drops
/// everything.
struct ClientRequestDecoder {
    private enum State {
        case head(scanFrom: Int)
        case fixed(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        /// The request's end is the next part (no body, or the last body bytes were given).
        case ending(upgrade: Bool)
        case upgraded
        case refused
    }

    private let policy: RequestPolicy
    private var state = State.head(scanFrom: 0)

    init(policy: RequestPolicy) {
        self.policy = policy
    }

    /// After an upgrade request: the bytes left in the buffer belong to the new protocol.
    var isUpgraded: Bool {
        if case .upgraded = state { return true }
        return false
    }

    /// The next part from `buffer`, its bytes consumed; nil when more bytes are needed, or
    /// for good after an upgrade request or a refusal.
    mutating func next(from buffer: inout ByteBuffer) -> ClientRequestPart? {
        switch state {
        case .head(let scanFrom):
            return decodeHead(&buffer, scanFrom: scanFrom)
        case .fixed(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let count = min(remaining, buffer.readableBytes)
            let slice = buffer.readSlice(length: count)!
            state = count == remaining ? .ending(upgrade: false) : .fixed(remaining: remaining - count)
            return .body(slice)
        case .chunked(var chunks):
            let (consumed, step) = buffer.withUnsafeReadableBytes { chunks.decode($0) }
            switch step {
            case .data(let offset, let count):
                let slice = buffer.getSlice(at: buffer.readerIndex + offset, length: count)!
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .chunked(chunks)
                return .body(slice)
            case .needMore:
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .chunked(chunks)
                return nil
            case .end(let trailers):
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .head(scanFrom: 0)
                return .end(trailers.isEmpty ? nil : HTTPHeaders(trailers.map { ($0.name, $0.value) }))
            case .refused(let refusal):
                return refuse(refusal, inBody: true, buffer: &buffer)
            }
        case .ending(let upgrade):
            state = upgrade ? .upgraded : .head(scanFrom: 0)
            return .end(nil)
        case .upgraded:
            return nil
        case .refused:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
    }

    private mutating func decodeHead(_ buffer: inout ByteBuffer, scanFrom: Int) -> ClientRequestPart? {
        if scanFrom == 0 {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            while buffer.readableBytesView.starts(with: [0x0D, 0x0A]) { buffer.moveReaderIndex(forwardBy: 2) }
        }
        guard buffer.readableBytes > 0 else { return nil }
        let limits = policy.limits
        let scan = buffer.withUnsafeReadableBytes { RequestHeadParser.scan($0, from: scanFrom, limits: limits) }
        let length: Int
        switch scan {
        case .incomplete(let resumeAt):
            state = .head(scanFrom: resumeAt)
            return nil
        case .refused(let refusal):
            return refuse(refusal, inBody: false, buffer: &buffer)
        case .complete(let value):
            length = value
        }
        let parsed = buffer.withUnsafeReadableBytes { bytes in
            RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), limits: limits)
        }
        buffer.moveReaderIndex(forwardBy: length)
        let request: ValidatedRequest
        switch parsed.flatMap({ RequestValidator.validate($0, policy: policy) }) {
        case .failure(let refusal):
            return refuse(refusal, inBody: false, buffer: &buffer)
        case .success(let value):
            request = value
        }
        // Wrapped once: `HTTPHeaders.add` re-checks every name, which the parser validated.
        var fields: [(String, String)] = []
        fields.reserveCapacity(request.fields.count)
        for field in request.fields { fields.append((field.name, field.value)) }
        let head = HTTPRequestHead(
            version: HTTPVersion(major: 1, minor: request.minorVersion),
            method: HTTPMethod(rawValue: request.method),
            uri: request.target,
            headers: HTTPHeaders(fields)
        )
        switch request.framing {
        case .none, .length(0):
            state = .ending(upgrade: request.upgrade)
        case .length(let length):
            state = .fixed(remaining: length)
        case .chunked:
            state = .chunked(
                ChunkedBodyDecoder(maxTrailerSize: limits.maxHeadSize, maxTrailerFields: limits.maxFields))
        }
        return .head(head)
    }

    private mutating func refuse(
        _ refusal: RequestRefusal, inBody: Bool, buffer: inout ByteBuffer
    ) -> ClientRequestPart {
        state = .refused
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .refused(refusal, inBody: inBody)
    }
}
