import Logging
import NIOCore
import PortcullisConfig
import PortcullisHTTP

/// The client address a PROXY protocol header named, passed to the proxy handler as a
/// user inbound event before any request bytes.
struct ProxyProtocolSource {
    let address: String
}

/// First in the pipeline of a `proxy_protocol: true` listener: reads the PROXY header
/// (v1 or v2), announces the client it names, then leaves the pipeline; the bytes behind
/// the header (a TLS ClientHello or a request) are passed on as they came. A connection
/// without a valid header, or from a peer outside `trusted_proxies` (when set), is
/// closed: the header is only believed from the balancer.
final class ProxyProtocolDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    private let trustedProxies: [CIDRBlock]
    private let logger: Logger
    private var done = false

    init(trustedProxies: [CIDRBlock], logger: Logger) {
        self.trustedProxies = trustedProxies
        self.logger = logger
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !done else { return .needMoreData }
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if !trustedProxies.isEmpty, !trustedProxies.contains(where: { $0.contains(peer) }) {
            return refuse("peer is not in trusted_proxies", peer: peer, context: context, buffer: &buffer)
        }
        switch buffer.withUnsafeReadableBytes({ ProxyProtocolHeader.parse($0) }) {
        case .incomplete:
            return .needMoreData
        case .invalid(let reason):
            return refuse(reason, peer: peer, context: context, buffer: &buffer)
        case .complete(let length, let source):
            buffer.moveReaderIndex(forwardBy: length)
            done = true
            if let source { context.fireUserInboundEventTriggered(ProxyProtocolSource(address: source)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return .needMoreData
        }
    }

    /// On removal the bytes behind the header go on to the next handler as they came.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if done, !seenEOF, buffer.readableBytes > 0 {
            context.fireChannelRead(NIOAny(buffer.readSlice(length: buffer.readableBytes)!))
            context.fireChannelReadComplete()
        }
        return .needMoreData
    }

    private func refuse(
        _ reason: String, peer: String, context: ChannelHandlerContext, buffer: inout ByteBuffer
    ) -> DecodingState {
        done = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        EdgeMetrics.shared.requestRefused(reason: RequestRefusal.Code.proxyProtocol.description)
        logger.info("proxy protocol refused", metadata: ["client": "\(peer)", "reason": "\(reason)"])
        context.close(promise: nil)
        return .needMoreData
    }
}
