import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// The life of one client connection of the proxy, as a pure state machine: which request
/// is in flight, what waits behind it, when the connection stays open, when a request is
/// retried and when the connection must close.
///
/// It does no I/O and holds no channel. ``ProxyHandler`` feeds it one event per call
/// (a request part, an upstream leased, a response head, an upstream failure …) and
/// carries out the ``Action`` it returns. It only compares and hands back upstream
/// connections (never calls them), so tests drive it with connections that have no
/// channel.
///
/// One request is served at a time. A request pipelined behind the one in flight is
/// queued with everything after it, and reading stops until the exchange before it ends,
/// so responses leave in request order.
struct ProxyConnectionStateMachine {
    typealias Upstream = UpstreamConnection

    enum State {
        /// Waiting for a request head.
        case idle
        /// Answered locally; dropping the rest of the request body.
        case discarding
        /// Head received and routed; being authenticated, or an upstream connection is
        /// being leased.
        case connecting(Exchange)
        case proxying(Exchange, Upstream)
        /// A request to a socket route the edge answers itself (an upgrade being
        /// authenticated, an Engine.IO polling request waiting for its session).
        case socketExchange(SocketExchange)
        /// Handed over to a WebSocket tunnel or socket; the proxy is on its way out.
        case tunnelled
        case closed
    }

    enum Action {
        case none
        /// A part was queued behind the exchange in flight: stop reading the client.
        case pauseReads
        /// A new request head: route it (see ``ProxyRouting``).
        case route(HTTPRequestHead)
        /// Request body bytes, or the request's end, for the upstream.
        case forwardBody(ByteBuffer, Exchange, Upstream)
        case forwardEnd(HTTPHeaders?, Exchange, Upstream)
        case socketBody(ByteBuffer, SocketExchange)
        case socketEnd(SocketExchange)
        /// The connection is idle again: serve what was queued, then read on.
        case becomeIdle
        /// Answer a refused request (`exchange` nil: a refused head) with the refusal's
        /// status, then close; `closing` carried part of the request and is discarded.
        case refuse(RequestRefusal, Exchange?, closing: Upstream?)
        /// Answer the exchange's request with a status of the edge's own.
        case answer(Exchange, HTTPResponseStatus, closeAfter: Bool, outcome: String?, closing: Upstream?)
        /// A response has started and cannot be answered any more: log the exchange and
        /// close the client connection after what was written.
        case cutShort(Exchange, outcome: String, closing: Upstream?)
        /// Close the client connection after what was written.
        case close
        /// Lease an upstream connection for the exchange (again, after a failure).
        case lease(Exchange)
        /// A leased connection: send the upstream head and what arrived in the meantime.
        case begin(Exchange, Upstream, pending: [ClientRequestPart])
        /// The response has ended. The upstream goes back to its pool if the request had
        /// ended too; the client connection stays open with `keepClient`.
        case finish(Exchange, Upstream, keepClient: Bool)
        /// A leased connection nobody waits for any more.
        case closeUpstream(Upstream)
        /// The client closed: close the upstream, log the exchange, stop the handshake timer.
        case abandon(Exchange?, closing: Upstream?, socket: SocketExchange?)
    }

    private(set) var state = State.idle
    /// Parts of pipelined requests waiting for the exchange in flight to end.
    private var queued = CircularBuffer<ClientRequestPart>()
    /// Set by a drain: finish the exchange in flight, then close.
    private(set) var quiescing = false

    // MARK: Client events

    /// A part of a request decoded from the client.
    mutating func received(_ part: ClientRequestPart) -> Action {
        if !queued.isEmpty || (Self.startsRequest(part) && isBusy) {
            queued.append(part)
            return .pauseReads
        }
        return process(part)
    }

    /// The next queued part that can be served now, removed from the queue; nil when the
    /// queue is empty, the connection closed, or a queued request must wait for the one in
    /// flight. Feed it to ``process(_:)``.
    mutating func nextQueued() -> ClientRequestPart? {
        guard let part = queued.first, !isClosed, !(Self.startsRequest(part) && isBusy) else { return nil }
        return queued.removeFirst()
    }

    var hasQueued: Bool { !queued.isEmpty }

    mutating func process(_ part: ClientRequestPart) -> Action {
        switch part {
        case .head(let head):
            guard case .idle = state else { return .none }
            return .route(head)
        case .body(let buffer):
            return receivedBody(buffer)
        case .end(let trailers):
            return receivedEnd(trailers)
        case .refused(let refusal, _):
            return refused(refusal)
        }
    }

    private mutating func receivedBody(_ buffer: ByteBuffer) -> Action {
        switch state {
        case .connecting(let exchange):
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.route.route.maxBodySize { return bodyTooLarge(exchange, upstream: nil) }
            exchange.pending.append(.body(buffer))
            return .none
        case .proxying(let exchange, let upstream):
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.route.route.maxBodySize {
                return bodyTooLarge(exchange, upstream: upstream)
            }
            return .forwardBody(buffer, exchange, upstream)
        case .socketExchange(let exchange):
            return .socketBody(buffer, exchange)
        case .idle, .discarding, .tunnelled, .closed:
            return .none
        }
    }

    private mutating func receivedEnd(_ trailers: HTTPHeaders?) -> Action {
        switch state {
        case .discarding:
            return .becomeIdle
        case .connecting(let exchange):
            exchange.requestEnded = true
            exchange.pending.append(.end(trailers))
            return .none
        case .proxying(let exchange, let upstream):
            exchange.requestEnded = true
            return .forwardEnd(trailers, exchange, upstream)
        case .socketExchange(let exchange):
            exchange.requestEnded = true
            return .socketEnd(exchange)
        case .idle, .tunnelled, .closed:
            return .none
        }
    }

    /// Over the route's `max_body_size`: a 413 while it can still be answered; the
    /// upstream that took part of the body is never reused.
    private mutating func bodyTooLarge(_ exchange: Exchange, upstream: Upstream?) -> Action {
        if exchange.responseStarted {
            state = .closed
            return .cutShort(exchange, outcome: "request body over limit", closing: upstream)
        }
        return .answer(exchange, .payloadTooLarge, closeAfter: true, outcome: nil, closing: upstream)
    }

    /// The decoder refused a request head, or the body of the request in flight: the
    /// connection closes after the refusal's answer, or at once if a response has started.
    private mutating func refused(_ refusal: RequestRefusal) -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .proxying(let exchange, let upstream):
            if exchange.responseStarted {
                return .cutShort(exchange, outcome: "refused: \(refusal.code)", closing: upstream)
            }
            return .refuse(refusal, exchange, closing: upstream)
        case .connecting(let exchange):
            return .refuse(refusal, exchange, closing: nil)
        case .idle, .discarding:
            return .refuse(refusal, nil, closing: nil)
        case .socketExchange, .tunnelled, .closed:
            return .close
        }
    }

    /// The client connection is gone.
    mutating func clientClosed() -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .proxying(let exchange, let upstream): return .abandon(exchange, closing: upstream, socket: nil)
        case .connecting(let exchange): return .abandon(exchange, closing: nil, socket: nil)
        case .socketExchange(let exchange): return .abandon(nil, closing: nil, socket: exchange)
        case .idle, .discarding, .tunnelled, .closed: return .none
        }
    }

    /// The channel failed; returns the upstream connection to close with it.
    mutating func failed() -> Upstream? {
        defer { state = .closed }
        if case .proxying(_, let upstream) = state { return upstream }
        return nil
    }

    /// A drain began; true when the connection can close at once.
    mutating func quiesce() -> Bool {
        quiescing = true
        return isIdle
    }

    /// Nothing in flight and nothing queued (the idle timeout may close the connection).
    var isIdle: Bool {
        if case .idle = state { return queued.isEmpty }
        return false
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The exchange in flight ended with the connection open; true when it must close
    /// now instead (a drain began and nothing is queued).
    mutating func becameIdle() -> Bool {
        state = .idle
        return quiescing && queued.isEmpty
    }

    mutating func markClosed() {
        state = .closed
    }

    // MARK: Local answers

    /// How a local answer leaves the connection.
    struct LocalAnswer {
        let closeAfter: Bool
        /// The request had been read to its end: the connection is idle after the answer.
        let requestEnded: Bool
    }

    /// The edge is about to answer the request in flight itself. During a drain every
    /// answer closes; one given before the request's body has been read leaves the body to
    /// be discarded.
    mutating func answering(closeAfter: Bool) -> LocalAnswer {
        let requestEnded: Bool
        switch state {
        case .connecting(let exchange), .proxying(let exchange, _): requestEnded = exchange.requestEnded
        case .socketExchange(let exchange): requestEnded = exchange.requestEnded
        case .idle, .discarding, .tunnelled, .closed: requestEnded = false
        }
        let closeAfter = closeAfter || quiescing
        state = closeAfter ? .closed : requestEnded ? .idle : .discarding
        return LocalAnswer(closeAfter: closeAfter, requestEnded: requestEnded)
    }

    // MARK: Proxying

    /// A routed request goes to an upstream, once authenticated.
    mutating func startProxying(_ exchange: Exchange) {
        state = .connecting(exchange)
    }

    /// Whether `exchange` is still waiting for its upstream connection (not answered,
    /// not abandoned).
    func isConnecting(_ exchange: Exchange) -> Bool {
        if case .connecting(let current) = state { return current === exchange }
        return false
    }

    /// The upstream connection in flight, for flushes and backpressure.
    var upstream: Upstream? {
        if case .proxying(_, let upstream) = state { return upstream }
        return nil
    }

    /// The exchange `upstream` carries, if it is still the one in flight.
    func exchange(on upstream: Upstream) -> Exchange? {
        if case .proxying(let exchange, let current) = state, current === upstream { return exchange }
        return nil
    }

    mutating func leased(_ upstream: Upstream, for exchange: Exchange) -> Action {
        guard isConnecting(exchange) else { return .closeUpstream(upstream) }
        state = .proxying(exchange, upstream)
        let pending = exchange.pending
        exchange.pending = []
        return .begin(exchange, upstream, pending: pending)
    }

    /// Connecting to the chosen server failed: an idempotent request tries one other
    /// server of the group; anything else is a 502.
    mutating func connectFailed(_ exchange: Exchange) -> Action {
        guard isConnecting(exchange) else { return .none }
        if exchange.head.method.isIdempotent, exchange.tried.count < 2, exchange.group.servers.count > 1 {
            return .lease(exchange)
        }
        return failure(exchange, .badGateway)
    }

    /// No server of the group can be tried.
    mutating func noServer(_ exchange: Exchange) -> Action {
        guard isConnecting(exchange) else { return .none }
        return failure(exchange, .badGateway)
    }

    /// A response head arrived; returns whether the client connection stays open after it.
    /// Decided once, here: a response that starts before the request body has ended, or
    /// during a drain, closes the connection, and so does one the client could only see
    /// the end of by the close (`closeDelimited`: a body delimited by the upstream's close,
    /// or chunked to an HTTP/1.0 client, which gets it de-chunked). So does any answer but a
    /// 101 to an upgrade request: the request decoder stops after one.
    mutating func responseStarted(_ exchange: Exchange, closeDelimited: Bool) -> Bool {
        exchange.responseStarted = true
        exchange.keepAlive =
            exchange.keepAlive && exchange.requestEnded && !quiescing && !closeDelimited && !exchange.tunnel
        return exchange.keepAlive
    }

    /// A 101 to a tunnel request: the connection leaves HTTP.
    mutating func switchingProtocols() {
        state = .tunnelled
    }

    var isTunnelled: Bool {
        if case .tunnelled = state { return true }
        return false
    }

    mutating func upstreamEnded(_ upstream: Upstream) -> Action {
        guard let exchange = exchange(on: upstream) else { return .none }
        let keepClient = exchange.keepAlive && exchange.requestEnded && !quiescing
        state = keepClient ? .idle : .closed
        return .finish(exchange, upstream, keepClient: keepClient)
    }

    /// The upstream failed the exchange. Before a response has started the client gets a
    /// 504 or 502; a reused keep-alive connection that the upstream closed just as it was
    /// reused is replayed once on a fresh connection to the same server, for a request
    /// that is idempotent and had no body. After the response started, the client
    /// connection closes.
    mutating func upstreamFailed(_ upstream: Upstream, _ failure: UpstreamFailure, reused: Bool) -> Action {
        guard let exchange = exchange(on: upstream) else { return .none }
        switch failure {
        case .timeout where !exchange.responseStarted:
            return self.failure(exchange, .gatewayTimeout)
        case .closed(responseStarted: false)
        where reused && exchange.hasNoBody && exchange.requestEnded && exchange.head.method.isIdempotent
            && !exchange.retriedStaleConnection:
            exchange.retriedStaleConnection = true
            exchange.pending = [.end(nil)]
            exchange.tried.removeLast()
            state = .connecting(exchange)
            return .lease(exchange)
        case .closed(responseStarted: false):
            return self.failure(exchange, .badGateway)
        case .invalidResponse where !exchange.responseStarted:
            return self.failure(exchange, .badGateway, outcome: "invalid upstream response")
        case .invalidResponse:
            state = .closed
            return .cutShort(exchange, outcome: "invalid upstream response mid-response", closing: nil)
        case .timeout, .closed(responseStarted: true):
            state = .closed
            return .cutShort(exchange, outcome: "upstream failed mid-response", closing: nil)
        }
    }

    /// A status of the edge's own for the exchange; the connection closes unless the
    /// request had ended and may be kept alive.
    private func failure(_ exchange: Exchange, _ status: HTTPResponseStatus, outcome: String? = nil) -> Action {
        .answer(
            exchange, status, closeAfter: !exchange.requestEnded || !exchange.keepAlive, outcome: outcome, closing: nil)
    }

    // MARK: Socket routes

    mutating func startSocketExchange(_ exchange: SocketExchange) {
        state = .socketExchange(exchange)
    }

    /// The socket-route request in flight; handlers compare it with theirs before acting.
    var socketExchange: SocketExchange? {
        if case .socketExchange(let exchange) = state { return exchange }
        return nil
    }

    // MARK: Helpers

    private var isBusy: Bool {
        switch state {
        case .connecting, .proxying, .socketExchange, .tunnelled: return true
        case .idle, .discarding, .closed: return false
        }
    }

    /// Whether `part` starts a new request (a refusal of a head does too).
    private static func startsRequest(_ part: ClientRequestPart) -> Bool {
        switch part {
        case .head, .refused(_, inBody: false): return true
        case .body, .end, .refused(_, inBody: true): return false
        }
    }
}
