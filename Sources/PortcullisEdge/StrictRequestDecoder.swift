import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// A request part as the proxy handler receives it: the canonical head, body bytes, the
/// end (with trailers), or a refusal (the decoder has stopped; the connection must close).
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
/// It replaces NIO's llhttp-based decoder so that every rule of the strict request path
/// lives in the pure `PortcullisHTTP` module: the head the proxy sees is already
/// canonical (normalized target, one `Host`, the edge's own framing). After an upgrade
/// request it stops, leaving the following bytes buffered; they are passed on as raw
/// bytes when the handler is removed (the WebSocket tunnel and socket routes do that).
/// After a refusal it drops everything.
final class StrictRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = ClientRequestPart

    private enum State {
        case head(scanFrom: Int)
        case fixed(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case upgraded
        case refused
    }

    private let policy: RequestPolicy
    private var state = State.head(scanFrom: 0)

    init(policy: RequestPolicy) {
        self.policy = policy
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch state {
        case .head(let scanFrom):
            return decodeHead(context: context, buffer: &buffer, scanFrom: scanFrom)
        case .fixed(let remaining):
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let count = min(remaining, buffer.readableBytes)
            let slice = buffer.readSlice(length: count)!
            state = count == remaining ? .head(scanFrom: 0) : .fixed(remaining: remaining - count)
            context.fireChannelRead(wrapInboundOut(.body(slice)))
            if count == remaining { context.fireChannelRead(wrapInboundOut(.end(nil))) }
            return .continue
        case .chunked(var chunks):
            let (consumed, step) = buffer.withUnsafeReadableBytes { chunks.decode($0) }
            switch step {
            case .data(let offset, let count):
                let slice = buffer.getSlice(at: buffer.readerIndex + offset, length: count)!
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .chunked(chunks)
                context.fireChannelRead(wrapInboundOut(.body(slice)))
                return .continue
            case .needMore:
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .chunked(chunks)
                return .needMoreData
            case .end(let trailers):
                buffer.moveReaderIndex(forwardBy: consumed)
                state = .head(scanFrom: 0)
                let fields = trailers.isEmpty ? nil : HTTPHeaders(trailers.map { ($0.name, $0.value) })
                context.fireChannelRead(wrapInboundOut(.end(fields)))
                return .continue
            case .refused(let refusal):
                return refuse(refusal, inBody: true, context: context, buffer: &buffer)
            }
        case .upgraded:
            return .needMoreData
        case .refused:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
    }

    /// At EOF a partial request is the client's loss. On removal after an upgrade, the
    /// bytes the client sent behind its upgrade request (a first WebSocket frame) go on
    /// to the handlers that replace HTTP, as raw bytes.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if case .upgraded = state, !seenEOF, buffer.readableBytes > 0 {
            context.fireChannelRead(NIOAny(buffer.readSlice(length: buffer.readableBytes)!))
            context.fireChannelReadComplete()
        }
        return .needMoreData
    }

    private func decodeHead(context: ChannelHandlerContext, buffer: inout ByteBuffer, scanFrom: Int) -> DecodingState {
        if scanFrom == 0 {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            while buffer.readableBytesView.starts(with: [0x0D, 0x0A]) { buffer.moveReaderIndex(forwardBy: 2) }
        }
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let limits = policy.limits
        let scan = buffer.withUnsafeReadableBytes { RequestHeadParser.scan($0, from: scanFrom, limits: limits) }
        let length: Int
        switch scan {
        case .incomplete(let resumeAt):
            state = .head(scanFrom: resumeAt)
            return .needMoreData
        case .refused(let refusal):
            return refuse(refusal, inBody: false, context: context, buffer: &buffer)
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
            return refuse(refusal, inBody: false, context: context, buffer: &buffer)
        case .success(let value):
            request = value
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.fields.count)
        for field in request.fields { headers.add(name: field.name, value: field.value) }
        let head = HTTPRequestHead(
            version: HTTPVersion(major: 1, minor: request.minorVersion),
            method: HTTPMethod(rawValue: request.method),
            uri: request.target,
            headers: headers
        )
        switch request.framing {
        case .none, .length(0):
            state = request.upgrade ? .upgraded : .head(scanFrom: 0)
            context.fireChannelRead(wrapInboundOut(.head(head)))
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        case .length(let length):
            state = .fixed(remaining: length)
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .chunked:
            state = .chunked(
                ChunkedBodyDecoder(maxTrailerSize: limits.maxHeadSize, maxTrailerFields: limits.maxFields))
            context.fireChannelRead(wrapInboundOut(.head(head)))
        }
        return .continue
    }

    private func refuse(
        _ refusal: RequestRefusal, inBody: Bool, context: ChannelHandlerContext, buffer: inout ByteBuffer
    ) -> DecodingState {
        state = .refused
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.refused(refusal, inBody: inBody)))
        return .needMoreData
    }
}
