import NIOCore
import NIOHTTP1
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
    func upstream(_ connection: UpstreamConnection, received part: HTTPClientResponsePart)
    func upstreamReadComplete(_ connection: UpstreamConnection)
    func upstream(_ connection: UpstreamConnection, failed: UpstreamFailure)
    func upstreamBecameWritable(_ connection: UpstreamConnection)
}

/// The last handler of a keep-alive connection to one upstream server.
///
/// It carries one exchange at a time for its delegate (the client's `ProxyHandler`), holds
/// reads while the client cannot take more response bytes (backpressure), enforces the
/// response timeout, and knows whether the connection may go back to the idle pool.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum Phase {
        case idle
        case exchanging(responseStarted: Bool)
        case responseComplete
        case broken
    }

    let server: UpstreamServer
    let serverIndex: Int
    /// Strong on purpose (weak references move refcounts to a slow side table); cleared
    /// when the exchange ends, the connection is parked, or it closes.
    var delegate: UpstreamDelegate?
    /// Called once when the channel closes while it sits in the idle pool.
    var onIdleClose: ((UpstreamConnection) -> Void)?
    /// When a parked connection is closed by the pool's sweeper.
    var idleDeadline = NIODeadline.distantFuture
    /// Number of exchanges this connection has carried; more than zero means reused.
    private(set) var exchanges = 0

    private var context: ChannelHandlerContext?
    private var phase = Phase.idle
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
    }

    // MARK: Driving an exchange

    func begin(delegate: UpstreamDelegate, responseTimeout: TimeAmount) {
        self.delegate = delegate
        self.responseTimeout = responseTimeout
        self.exchanges += 1
        self.keepAlive = true
        self.phase = .exchanging(responseStarted: false)
        self.waitingForResponse = false
        self.lastActivity = .now()
        resumeReads()
    }

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
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
        let part = unwrapInboundIn(data)
        lastActivity = .now()
        switch part {
        case .head(let head):
            if let problem = ResponseFraming.problem(in: head.headers, status: Int(head.status.code)) {
                invalidResponse(problem, context: context)
                return
            }
            keepAlive = head.isKeepAlive
            phase = .exchanging(responseStarted: true)
        case .body:
            break
        case .end:
            waitingForResponse = false
            phase = .responseComplete
        }
        delegate?.upstream(self, received: part)
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
            delegate?.upstream(self, failed: .closed(responseStarted: responseStarted))
        case .idle:
            onIdleClose?(self)
            onIdleClose = nil
        case .responseComplete, .broken:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        keepAlive = false
        if error is HTTPParserError, case .exchanging = phase {
            invalidResponse("unparsable response: \(error)", context: context)
            return
        }
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
