import NIOCore
import NIOHTTP1

/// The upstream side of a proxied exchange: relaying the response, finishing or failing
/// the exchange, and handing a 101 over to a WebSocket tunnel.
extension ProxyHandler: UpstreamDelegate {
    func upstream(_ connection: UpstreamConnection, received part: HTTPClientResponsePart) {
        guard case .proxying(let exchange, let upstream) = state, upstream === connection, let context else { return }
        switch part {
        case .head(let head):
            exchange.status = head.status
            if let started = exchange.upstreamStarted, let server = exchange.tried.last {
                exchange.group.servers[server].responseTimer.recordNanoseconds(
                    (NIODeadline.now() - started).nanoseconds)
            }
            if exchange.tunnel && head.status == .switchingProtocols {
                // Splice only after the decoder has delivered the 101's end and left its
                // read callback; see the `.end` case.
                exchange.upgradeResponse = head
                return
            }
            exchange.responseStarted = true
            // Decided once, with the response head: a response that starts before the
            // request body has ended, or during a drain, closes the connection.
            exchange.keepAlive = exchange.keepAlive && exchange.requestEnded && !quiescing
            let response = HeaderRewriting.clientResponse(
                head, version: exchange.head.version, requestId: exchange.requestId,
                keepAlive: exchange.keepAlive, tunnel: false
            )
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let buffer):
            exchange.responseBytes += buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable {
                upstream.pauseReads()
                context.flush()
            }
        case .end(let trailers):
            if let response = exchange.upgradeResponse {
                state = .tunnelled
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
            finishExchange(exchange, upstream: upstream, trailers: trailers, context: context)
        }
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        context?.flush()
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

    private func finishExchange(
        _ exchange: Exchange,
        upstream: UpstreamConnection,
        trailers: HTTPHeaders?,
        context: ChannelHandlerContext
    ) {
        let pool = environment.pools.pool(for: context.eventLoop)
        let keepClient = exchange.keepAlive && exchange.requestEnded && !quiescing
        if exchange.requestEnded {
            pool.release(upstream, group: exchange.group)
        } else {
            upstream.close()
        }
        logAccess(exchange)
        if keepClient {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            becameIdle(context: context)
        } else {
            state = .closed
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Passes the upstream's 101 to the client and splices the two connections.
    private func startTunnel(
        _ exchange: Exchange,
        upstream: UpstreamConnection,
        response: HTTPResponseHead,
        context: ChannelHandlerContext
    ) {
        let head = HeaderRewriting.clientResponse(
            response, version: exchange.head.version, requestId: exchange.requestId, keepAlive: true, tunnel: true
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
