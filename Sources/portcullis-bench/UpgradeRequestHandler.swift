import NIOCore
import NIOHTTP1

/// Sends the opening handshake's GET once the socket is connected, and turns anything but
/// a completed upgrade into a failed `outcome`.
///
/// NIO's client upgrade handler adds `Upgrade`, `Connection`, `Sec-WebSocket-Key` and
/// `Sec-WebSocket-Version` to this request and checks `Sec-WebSocket-Accept` on the 101. A
/// response that reaches this handler was not upgraded (a 4xx/5xx, or a 101 that failed the
/// check), and the connection is closed. The pipeline removes this handler once upgraded.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let url: WebSocketURL
    private let subprotocol: String?
    private let offerDeflate: Bool
    private let outcome: EventLoopPromise<Void>

    init(url: WebSocketURL, subprotocol: String?, offerDeflate: Bool = false, outcome: EventLoopPromise<Void>) {
        self.url = url
        self.subprotocol = subprotocol
        self.offerDeflate = offerDeflate
        self.outcome = outcome
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.url.hostHeader)
        headers.add(name: "User-Agent", value: "portcullis-bench")
        if let subprotocol = self.subprotocol {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        if self.offerDeflate {
            headers.add(name: "Sec-WebSocket-Extensions", value: "permessage-deflate; client_max_window_bits")
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.url.target, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = Self.unwrapInboundIn(data) {
            self.outcome.fail(BenchError.upgradeRefused(status: Int(head.status.code)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.outcome.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.outcome.fail(BenchError.closedDuringHandshake)
        context.fireChannelInactive()
    }
}
