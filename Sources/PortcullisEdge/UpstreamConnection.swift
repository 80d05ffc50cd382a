import NIOCore
import PortcullisHTTP

/// Why an exchange with an upstream ended early.
enum UpstreamFailure: Error {
    /// No response (or no further response bytes) within the upstream's response timeout.
    case timeout
    /// The upstream closed or reset the connection; `responseStarted` tells whether the
    /// client has already seen a response head.
    case closed(responseStarted: Bool)
    /// The response's head or framing was invalid (both lengths, an unknown transfer
    /// coding, a malformed length, a parse error): where it ends is in doubt, so the
    /// connection is discarded and the request never replayed.
    case invalidResponse(String)
}

/// Receives one exchange's response from an `UpstreamConnection`; always called on the
/// connection's event loop, which is also the client connection's loop.
protocol UpstreamDelegate: AnyObject {
    /// The final response head (interim 1xx heads are dropped); `head`'s ranges index into
    /// `bytes`, and `following` bytes of the same read come after it (body bytes, most
    /// often). A 101 is followed by nothing: the connection has switched protocols and
    /// waits to be spliced; the bytes behind the 101 reach the next handler when this one
    /// leaves the pipeline.
    func upstream(
        _ connection: UpstreamConnection, receivedHead head: ResponseHead, bytes: ByteBuffer, following: Int)
    /// Body bytes to relay to the client as they are: as received, or only the payload of a
    /// chunked body when the exchange asked for it de-chunked.
    func upstream(_ connection: UpstreamConnection, receivedBody buffer: ByteBuffer)
    func upstreamEnded(_ connection: UpstreamConnection)
    func upstreamReadComplete(_ connection: UpstreamConnection)
    func upstream(_ connection: UpstreamConnection, failed: UpstreamFailure)
    func upstreamBecameWritable(_ connection: UpstreamConnection)
}

/// The only handler of a keep-alive connection to one upstream server.
///
/// It reads the response itself, bytes in and bytes out: ``ResponseHeadParser`` finds and
/// judges the head, ``ResponseBodyReader`` follows the body so its bytes can be relayed
/// unchanged, and requests are written as the proxy serialized them. It carries one
/// exchange at a time for its delegate (the client's `ProxyHandler`), holds reads while the
/// client cannot take more response bytes (backpressure), enforces the response timeout,
/// and knows whether the connection may go back to the idle pool.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case idle
        case exchanging(responseStarted: Bool)
        case responseComplete
        /// A 101 arrived: the bytes behind it belong to the new protocol.
        case switched
        case broken
    }

    private enum Reading {
        /// Looking for the end of a head; `scanFrom` is where the last scan stopped.
        case head(scanFrom: Int)
        case body(ResponseBodyReader)
    }

    let server: UpstreamServer
    let serverIndex: Int
    /// Strong on purpose (weak references move refcounts to a slow side table); cleared
    /// when the exchange ends, the connection is parked, or it closes.
    var delegate: UpstreamDelegate?
    /// The pool this connection is parked in, told when the channel closes while idle;
    /// nil while it carries an exchange.
    var parkedIn: LoopPool?
    /// When a parked connection is closed by the pool's sweeper.
    var idleDeadline = NIODeadline.distantFuture
    /// Number of exchanges this connection has carried; more than zero means reused.
    private(set) var exchanges = 0

    private var context: ChannelHandlerContext?
    private var phase = Phase.idle
    private var reading = Reading.head(scanFrom: 0)
    /// Bytes of a head that has not ended yet, or, after a 101, of the new protocol.
    private var buffered: ByteBuffer?
    private var requestWasHead = false
    private var upgradeRequested = false
    private var dechunk = false
    private var keepAlive = true
    private var readsPaused = false
    private var readPending = false
    private var responseTimeout = TimeAmount.seconds(30)
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var deadline = NIODeadline.distantFuture
    /// Between the end of the request and the end of the response.
    private var waitingForResponse = false

    init(server: UpstreamServer, serverIndex: Int) {
        self.server = server
        self.serverIndex = serverIndex
    }

    var channel: Channel? { context?.channel }
    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// True after a complete response on a connection both sides keep alive.
    var isReusable: Bool {
        if case .responseComplete = phase { return keepAlive && isActive }
        return false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
        // Spliced into a tunnel: what the upstream sent behind its 101 goes on as bytes.
        if case .switched = phase, let bytes = buffered, bytes.readableBytes > 0 {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
    }

    // MARK: Driving an exchange

    /// Starts an exchange.
    ///
    /// - Parameters:
    ///   - requestIsHead: the request is `HEAD`: its response has no body.
    ///   - upgradeRequested: the request asks for a WebSocket upgrade; a 101 to any other
    ///     request is an invalid response.
    ///   - dechunk: relay only the payload of a chunked body (for an HTTP/1.0 client).
    func begin(
        delegate: UpstreamDelegate, responseTimeout: TimeAmount, requestIsHead: Bool, upgradeRequested: Bool,
        dechunk: Bool
    ) {
        self.delegate = delegate
        self.responseTimeout = responseTimeout
        self.requestWasHead = requestIsHead
        self.upgradeRequested = upgradeRequested
        self.dechunk = dechunk
        self.exchanges += 1
        self.keepAlive = true
        self.phase = .exchanging(responseStarted: false)
        self.reading = .head(scanFrom: 0)
        self.buffered = nil
        self.waitingForResponse = false
        self.lastActivity = .now()
        resumeReads()
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// The whole request is written: from now on silence longer than the response timeout
    /// fails the exchange.
    func requestSent() {
        lastActivity = .now()
        waitingForResponse = true
        armTimer()
    }

    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// Puts the connection back to rest after its exchange; the pool owns it from here.
    func park() {
        delegate = nil
        phase = .idle
        waitingForResponse = false
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func close() {
        phase = .broken
        delegate = nil
        timer?.cancel()
        context?.close(promise: nil)
    }

    // MARK: ChannelHandler

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        lastActivity = .now()
        switch phase {
        case .exchanging:
            receive(&bytes, context: context)
        case .switched:
            if buffered == nil {
                buffered = bytes
            } else {
                buffered!.writeBuffer(&bytes)
            }
        case .idle, .responseComplete:
            // Bytes nobody asked for: where a next response would start is unknown.
            keepAlive = false
            close()
        case .broken:
            break
        }
    }

    /// Reads the response from `bytes` until they run out, the response ends, or the
    /// delegate stops the exchange.
    private func receive(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        while bytes.readableBytes > 0, case .exchanging = phase {
            switch reading {
            case .head(let scanFrom):
                if var pending = buffered {
                    buffered = nil
                    pending.writeBuffer(&bytes)
                    bytes = pending
                }
                let scan = bytes.withUnsafeReadableBytes {
                    ResponseHeadParser.scan($0, from: scanFrom, maxHeadSize: ResponseHeadParser.defaultMaxHeadSize)
                }
                switch scan {
                case .incomplete(let resumeAt):
                    reading = .head(scanFrom: resumeAt)
                    buffered = bytes
                    return
                case .problem(let problem):
                    invalidResponse(problem.detail, context: context)
                    return
                case .complete(let length):
                    let headBytes = bytes.readSlice(length: length)!
                    reading = .head(scanFrom: 0)
                    receivedHead(headBytes, rest: &bytes, context: context)
                }
            case .body(var reader):
                let result = bytes.withUnsafeReadableBytes { reader.read($0) }
                reading = .body(reader)
                switch result {
                case .failure(let problem):
                    invalidResponse(problem.detail, context: context)
                    return
                case .success(let step):
                    let relayed =
                        dechunk && step.data.count != step.consumed
                        ? bytes.getSlice(at: bytes.readerIndex + step.data.lowerBound, length: step.data.count)!
                        : bytes.getSlice(at: bytes.readerIndex, length: step.consumed)!
                    bytes.moveReaderIndex(forwardBy: step.consumed)
                    if relayed.readableBytes > 0 { delegate?.upstream(self, receivedBody: relayed) }
                    if step.ended { responseEnded(leftover: bytes.readableBytes) }
                }
            }
        }
    }

    private func receivedHead(_ headBytes: ByteBuffer, rest: inout ByteBuffer, context: ChannelHandlerContext) {
        let parsed = headBytes.withUnsafeReadableBytes {
            ResponseHeadParser.parse($0, requestWasHead: requestWasHead)
        }
        let head: ResponseHead
        switch parsed {
        case .failure(let problem):
            invalidResponse(problem.detail, context: context)
            return
        case .success(let value):
            head = value
        }
        if head.isInterim { return }
        keepAlive = head.keepAlive
        if head.status == 101 {
            guard upgradeRequested else {
                invalidResponse("101 to a request that asked for no upgrade", context: context)
                return
            }
            phase = .switched
            waitingForResponse = false
            timer?.cancel()
            timer = nil
            buffered = rest.readableBytes > 0 ? rest : nil
            rest.moveReaderIndex(to: rest.writerIndex)
            delegate?.upstream(self, receivedHead: head, bytes: headBytes, following: 0)
            return
        }
        phase = .exchanging(responseStarted: true)
        let reader = ResponseBodyReader(head.body)
        reading = .body(reader)
        delegate?.upstream(self, receivedHead: head, bytes: headBytes, following: rest.readableBytes)
        if reader.isFinished, case .exchanging = phase { responseEnded(leftover: rest.readableBytes) }
    }

    /// The response is complete; bytes after it mean the upstream cannot be trusted with
    /// another exchange.
    private func responseEnded(leftover: Int) {
        if leftover > 0 { keepAlive = false }
        waitingForResponse = false
        phase = .responseComplete
        reading = .head(scanFrom: 0)
        let delegate = self.delegate
        delegate?.upstreamEnded(self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete(self)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            delegate?.upstreamBecameWritable(self)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        let previous = phase
        phase = .broken
        switch previous {
        case .exchanging(let responseStarted):
            let delegate = self.delegate
            self.delegate = nil
            if responseStarted, case .body(var reader) = reading, reader.closed() {
                // A body delimited by the close has ended.
                keepAlive = false
                phase = .responseComplete
                delegate?.upstreamEnded(self)
            } else {
                delegate?.upstream(self, failed: .closed(responseStarted: responseStarted))
            }
        case .idle:
            parkedIn?.parkedConnectionClosed(self)
            parkedIn = nil
        case .responseComplete, .switched, .broken:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        keepAlive = false
        context.close(promise: nil)
    }

    /// Fails the exchange with ``UpstreamFailure/invalidResponse(_:)`` and discards the
    /// connection; nothing more is read from it.
    private func invalidResponse(_ problem: String, context: ChannelHandlerContext) {
        timer?.cancel()
        phase = .broken
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstream(self, failed: .invalidResponse(problem))
        context.close(promise: nil)
    }

    /// Arms the response deadline. One scheduled task per connection is reused across
    /// exchanges: it fires, compares against the current deadline and re-arms, so a busy
    /// keep-alive connection does not schedule and cancel a task per request.
    private func armTimer() {
        deadline = lastActivity + responseTimeout
        guard timer == nil, let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard case .exchanging = phase, waitingForResponse else { return }
        deadline = lastActivity + responseTimeout
        if deadline > .now() {
            armTimer()
            return
        }
        phase = .broken
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstream(self, failed: .timeout)
        context?.close(promise: nil)
    }
}
