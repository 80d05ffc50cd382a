import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// The upstream side of a proxied exchange: leasing a connection, sending the request,
/// relaying the response, and handing a 101 over to a WebSocket tunnel. What follows from
/// each upstream event (keep-alive, retries, 502/504) is the state machine's decision.
extension ProxyHandler: UpstreamDelegate {
    // MARK: Leasing and sending

    func lease(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let serverIndex = pool.pickServer(of: exchange.group, excluding: exchange.tried) else {
            EdgeMetrics.shared.upstreamError(upstream: exchange.group.name, server: "-", kind: .noServer)
            run(machine.noServer(exchange), context: context)
            return
        }
        exchange.tried.append(serverIndex)
        exchange.server = exchange.group.servers[serverIndex].label
        if let connection = pool.idleConnection(to: exchange.group.servers[serverIndex]) {
            leased(connection, for: exchange)
            return
        }
        pool.connect(group: exchange.group, serverIndex: serverIndex).whenComplete { result in
            switch result {
            case .success(let connection):
                self.leased(connection, for: exchange)
            case .failure(let error):
                EdgeMetrics.shared.upstreamError(
                    upstream: exchange.group.name, server: exchange.group.servers[serverIndex].label,
                    kind: .connectFailed)
                self.pool.connectFailed(group: exchange.group, serverIndex: serverIndex, error: error)
                self.connectFailed(exchange, error: error)
            }
        }
    }

    private func connectFailed(_ exchange: Exchange, error: Error) {
        guard let context else { return }
        environment.logger.debug(
            "upstream connect failed",
            metadata: [
                "request.id": "\(exchange.requestId)", "upstream.server": "\(exchange.server ?? "-")",
                "error": "\(error)",
            ]
        )
        run(machine.connectFailed(exchange), context: context)
    }

    private func leased(_ upstream: UpstreamConnection, for exchange: Exchange) {
        guard let context else {
            // The client went away while we connected.
            upstream.close()
            return
        }
        run(machine.leased(upstream, for: exchange), context: context)
    }

    /// Sends the upstream head and the request parts that arrived while connecting.
    func begin(
        _ exchange: Exchange, on upstream: UpstreamConnection, pending: [ClientRequestPart],
        context: ChannelHandlerContext
    ) {
        exchange.upstreamStarted = .now()
        upstream.begin(
            delegate: self, responseTimeout: exchange.group.settings.responseTimeout.timeAmount,
            requestIsHead: exchange.head.method == .HEAD, upgradeRequested: exchange.tunnel,
            dechunk: exchange.head.version.minor == 0)
        var head = context.channel.allocator.buffer(capacity: 1024)
        head.writeRequestHead(exchange.upstreamHead)
        upstream.write(head)
        for part in pending {
            switch part {
            case .body(let buffer): sendBody(buffer, of: exchange, to: upstream)
            case .end(let trailers): sendEnd(trailers, of: exchange, to: upstream)
            case .head, .refused: break
            }
        }
        upstream.flush()
        if exchange.requestEnded {
            upstream.requestSent()
        } else if exchange.expectContinue {
            var interim = context.channel.allocator.buffer(capacity: 32)
            interim.writeResponseHead(HTTPResponseHead(version: exchange.head.version, status: .continue))
            context.writeAndFlush(wrapOutboundOut(interim), promise: nil)
        }
        if upstream.isWritable { resumeClientReads() }
    }

    /// Request body bytes, flushed at the end of the client's read unless the upstream
    /// cannot take more: then reading the client pauses until it can.
    func forwardBody(_ buffer: ByteBuffer, of exchange: Exchange, to upstream: UpstreamConnection) {
        sendBody(buffer, of: exchange, to: upstream)
        upstreamNeedsFlush = true
        if !upstream.isWritable {
            // Pause before flushing: the flush may make the upstream writable again at
            // once, and that notification must find the pause in place.
            pauseClientReads()
            upstream.flush()
            upstreamNeedsFlush = false
        }
    }

    /// Body bytes in the framing the upstream head declared: as they are after a
    /// `Content-Length`, one chunk each when chunked (the edge re-frames chunked bodies, so
    /// the client's chunk boundaries and extensions never reach a backend).
    private func sendBody(_ buffer: ByteBuffer, of exchange: Exchange, to upstream: UpstreamConnection) {
        guard exchange.requestChunked else {
            upstream.write(buffer)
            return
        }
        guard buffer.readableBytes > 0, let context else { return }
        var chunk = context.channel.allocator.buffer(capacity: buffer.readableBytes + 20)
        chunk.writeChunk(buffer)
        upstream.write(chunk)
    }

    func sendEnd(_ trailers: HTTPHeaders?, of exchange: Exchange, to upstream: UpstreamConnection) {
        guard exchange.requestChunked, let context else { return }
        var last = context.channel.allocator.buffer(capacity: 64)
        last.writeLastChunk(trailers: trailers)
        upstream.write(last)
    }

    // MARK: The response

    func upstream(
        _ connection: UpstreamConnection, receivedHead head: ResponseHead, bytes: ByteBuffer, following: Int
    ) {
        guard let exchange = machine.exchange(on: connection), let context else { return }
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
            machine.switchingProtocols()
            // Splice on the next tick, outside the upstream handler's read callback.
            context.eventLoop.assumeIsolated().execute {
                guard self.machine.isTunnelled, connection.isActive, context.channel.isActive else {
                    connection.close()
                    context.close(promise: nil)
                    return
                }
                self.startTunnel(exchange, upstream: connection, response: response, context: context)
            }
            return
        }
        let chunked = head.body == .chunked
        let keepAlive = machine.responseStarted(
            exchange, closeDelimited: head.body == .untilClose || (chunked && clientMinor == 0))
        let joinable = following <= Self.maxJoinedBody ? following : 0
        var response = context.channel.allocator.buffer(capacity: bytes.readableBytes + 96 + joinable)
        bytes.withUnsafeReadableBytes {
            response.writeRelayedResponseHead(
                head, from: $0, minorVersion: clientMinor, requestId: exchange.requestId,
                chunked: chunked && clientMinor == 1, connection: keepAlive ? .keepAlive : .close)
        }
        heldResponseHead = response
    }

    /// Body bytes up to this size, read together with their head, leave in the head's
    /// buffer: one write through the pipeline and one `write(2)` instead of a `writev` of
    /// two, for the price of copying them.
    static let maxJoinedBody = 16 * 1024

    func upstream(_ connection: UpstreamConnection, receivedBody buffer: ByteBuffer) {
        guard let exchange = machine.exchange(on: connection), let context else { return }
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
            connection.pauseReads()
            context.flush()
        }
    }

    func upstreamEnded(_ connection: UpstreamConnection) {
        guard let context else { return }
        writeHeldResponseHead(context: context)
        run(machine.upstreamEnded(connection), context: context)
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
        if machine.upstream === connection {
            resumeClientReads()
        }
    }

    func upstream(_ connection: UpstreamConnection, failed: UpstreamFailure) {
        guard let exchange = machine.exchange(on: connection), let context else { return }
        EdgeMetrics.shared.upstreamError(
            upstream: exchange.group.name, server: exchange.server ?? "-", kind: UpstreamErrorKind(failed))
        if case .invalidResponse(let problem) = failed, !exchange.responseStarted {
            environment.logger.info(
                "invalid upstream response",
                metadata: [
                    "request.id": "\(exchange.requestId)", "upstream.server": "\(exchange.server ?? "-")",
                    "problem": "\(problem)",
                ])
        }
        run(machine.upstreamFailed(connection, failed, reused: connection.exchanges > 1), context: context)
    }

    /// The response has ended: the upstream connection goes back to its pool if the
    /// request had ended too (a response that came before the whole request leaves the
    /// connection in doubt), and the client connection serves its next request or closes
    /// once the response is out.
    func finish(
        _ exchange: Exchange, upstream: UpstreamConnection, keepClient: Bool, context: ChannelHandlerContext
    ) {
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
