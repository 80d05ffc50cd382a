import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// The upstream side of a proxied exchange: relaying the response, finishing or failing
/// the exchange, and handing a 101 over to a WebSocket tunnel.
extension ProxyHandler: UpstreamDelegate {
    func upstream(
        _ connection: UpstreamConnection, receivedHead head: ResponseHead, bytes: ByteBuffer, following: Int
    ) {
        guard case .proxying(let exchange, let upstream) = state, upstream === connection, let context else { return }
        exchange.status = HTTPResponseStatus(statusCode: head.status)
        if let started = exchange.upstreamStarted, let server = exchange.tried.last {
            exchange.group.servers[server].responseTimer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
        let clientMinor = exchange.head.version.minor == 0 ? 0 : 1
        if head.status == 101 {
            // Only to a tunnel request: the upstream connection refuses any other 101.
            var response = context.channel.allocator.buffer(capacity: bytes.readableBytes + 64)
            bytes.withUnsafeReadableBytes {
                response.writeRelayedResponseHead(
                    head, from: $0, minorVersion: clientMinor, requestId: exchange.requestId, chunked: false,
                    connection: .upgrade)
            }
            state = .tunnelled
            // Splice on the next tick, outside the upstream handler's read callback.
            context.eventLoop.assumeIsolated().execute {
                guard case .tunnelled = self.state, upstream.isActive, context.channel.isActive else {
                    upstream.close()
                    context.close(promise: nil)
                    return
                }
                self.startTunnel(exchange, upstream: upstream, response: response, context: context)
            }
            return
        }
        exchange.responseStarted = true
        // Decided once, with the response head: a response that starts before the request
        // body has ended, or during a drain, closes the connection, and so does one the
        // client could only see the end of by the close (a body delimited by the upstream's
        // close, or chunked to an HTTP/1.0 client, which gets it de-chunked).
        let chunked = head.body == .chunked
        exchange.keepAlive =
            exchange.keepAlive && exchange.requestEnded && !quiescing && head.body != .untilClose
            && !(chunked && clientMinor == 0)
        let joinable = following <= Self.maxJoinedBody ? following : 0
        var response = context.channel.allocator.buffer(capacity: bytes.readableBytes + 96 + joinable)
        bytes.withUnsafeReadableBytes {
            response.writeRelayedResponseHead(
                head, from: $0, minorVersion: clientMinor, requestId: exchange.requestId,
                chunked: chunked && clientMinor == 1, connection: exchange.keepAlive ? .keepAlive : .close)
        }
        heldResponseHead = response
    }

    /// Body bytes up to this size, read together with their head, leave in the head's
    /// buffer: one write through the pipeline and one `write(2)` instead of a `writev` of
    /// two, for the price of copying them.
    static let maxJoinedBody = 16 * 1024

    func upstream(_ connection: UpstreamConnection, receivedBody buffer: ByteBuffer) {
        guard case .proxying(let exchange, let upstream) = state, upstream === connection, let context else { return }
        exchange.responseBytes += buffer.readableBytes
        if var head = heldResponseHead {
            heldResponseHead = nil
            if buffer.readableBytes <= Self.maxJoinedBody {
                var body = buffer
                head.writeBuffer(&body)
                context.write(wrapOutboundOut(head), promise: nil)
            } else {
                context.write(wrapOutboundOut(head), promise: nil)
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        if !context.channel.isWritable {
            upstream.pauseReads()
            context.flush()
        }
    }

    func upstreamEnded(_ connection: UpstreamConnection) {
        guard case .proxying(let exchange, let upstream) = state, upstream === connection, let context else { return }
        writeHeldResponseHead(context: context)
        finishExchange(exchange, upstream: upstream, context: context)
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        guard let context else { return }
        writeHeldResponseHead(context: context)
        context.flush()
    }

    /// Writes a response head still waiting for body bytes from the same read.
    func writeHeldResponseHead(context: ChannelHandlerContext) {
        guard let head = heldResponseHead else { return }
        heldResponseHead = nil
        context.write(wrapOutboundOut(head), promise: nil)
    }

    func upstreamBecameWritable(_ connection: UpstreamConnection) {
        if case .proxying(_, let upstream) = state, upstream === connection {
            resumeClientReads()
        }
    }

    func upstream(_ connection: UpstreamConnection, failed: UpstreamFailure) {
        guard case .proxying(let exchange, let upstream) = state, upstream === connection, let context else { return }
        EdgeMetrics.shared.upstreamError(
            upstream: exchange.group.name, server: exchange.server ?? "-", kind: UpstreamErrorKind(failed))
        switch failed {
        case .timeout where !exchange.responseStarted:
            fail(exchange, status: .gatewayTimeout, context: context)
        case .closed(responseStarted: false)
        where upstream.exchanges > 1 && exchange.hasNoBody && exchange.requestEnded
            && exchange.head.method.isIdempotent && !exchange.retriedStaleConnection:
            // A keep-alive connection the upstream closed just as we reused it: replay once
            // on a fresh connection to the same server.
            exchange.retriedStaleConnection = true
            exchange.pending = [.end(nil)]
            exchange.tried.removeLast()
            state = .connecting(exchange)
            lease(exchange, context: context)
        case .closed(responseStarted: false):
            fail(exchange, status: .badGateway, context: context)
        case .invalidResponse(let problem) where !exchange.responseStarted:
            environment.logger.info(
                "invalid upstream response",
                metadata: [
                    "request.id": "\(exchange.requestId)", "upstream.server": "\(exchange.server ?? "-")",
                    "problem": "\(problem)",
                ])
            fail(exchange, status: .badGateway, context: context, outcome: "invalid upstream response")
        case .invalidResponse:
            logAccess(exchange, outcome: "invalid upstream response mid-response")
            close(context: context)
        case .timeout, .closed(responseStarted: true):
            logAccess(exchange, outcome: "upstream failed mid-response")
            close(context: context)
        }
    }

    private func finishExchange(_ exchange: Exchange, upstream: UpstreamConnection, context: ChannelHandlerContext) {
        let keepClient = exchange.keepAlive && exchange.requestEnded && !quiescing
        if exchange.requestEnded {
            pool.release(upstream, group: exchange.group)
        } else {
            upstream.close()
        }
        logAccess(exchange)
        if keepClient {
            context.flush()
            becameIdle(context: context)
        } else {
            state = .closed
            let channel = context.channel
            // An empty write carries the promise that tells when the response is out.
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    /// Passes the upstream's 101 (as `response`, the client's copy) to the client and
    /// splices the two connections.
    private func startTunnel(
        _ exchange: Exchange,
        upstream: UpstreamConnection,
        response: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        context.writeAndFlush(wrapOutboundOut(response), promise: nil)
        logAccess(exchange, outcome: "tunnel")
        do {
            try WebSocketTunnel.splice(client: context, upstream: upstream)
        } catch {
            environment.logger.warning(
                "tunnel setup failed", metadata: ["request.id": "\(exchange.requestId)", "error": "\(error)"])
            upstream.close()
            context.close(promise: nil)
        }
        resumeClientReads()
    }
}

extension UpstreamErrorKind {
    init(_ failure: UpstreamFailure) {
        switch failure {
        case .timeout: self = .timeout
        case .closed: self = .reset
        case .invalidResponse: self = .invalidResponse
        }
    }
}
