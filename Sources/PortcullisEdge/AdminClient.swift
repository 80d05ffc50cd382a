import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisConfig

/// A one-request HTTP client for the CLI to talk to a running edge's admin listener.
public enum AdminClient {
    public struct Response: Sendable {
        public let status: Int
        public let body: String
    }

    /// - Parameter tls: the admin listener's `admin.tls`, when it has one. The edge must
    ///   present one of the certificates configured there (pinned, so a self-signed or
    ///   privately issued certificate works and no host name check is needed: the address
    ///   is usually an IP address the certificate does not name).
    public static func post(_ path: String, to address: HostPort, tls: TLSSettings? = nil) async throws -> Response {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let pinning = try tls.map { settings in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .noHostnameVerification
            return (
                context: try NIOSSLContext(configuration: configuration),
                leaves: try settings.certificates.compactMap {
                    try NIOSSLCertificate.fromPEMFile($0.certificatePath).first
                }
            )
        }
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let pinning {
                        let handler = try NIOSSLClientHandler(context: pinning.context, serverHostname: nil) {
                            presented, verdict in
                            let known = presented.first.map(pinning.leaves.contains) ?? false
                            verdict.succeed(known ? .certificateVerified : .failed)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                }
            }
            .connect(host: address.host, port: address.port)
            .get()
        var headers = HTTPHeaders()
        headers.add(name: "host", value: address.description)
        headers.add(name: "content-length", value: "0")
        headers.add(name: "connection", value: "close")
        channel.write(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)),
            promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(60)) {
            promise.fail(ChannelError.connectTimeout(.seconds(60)))
        }
        defer { timeout.cancel() }
        let response = try await promise.futureResult.get()
        try? await channel.close()
        return response
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let promise: EventLoopPromise<Response>
        private var status = 0
        private var body = ""

        init(promise: EventLoopPromise<Response>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(let buffer): body += String(buffer: buffer)
            case .end: promise.succeed(Response(status: status, body: body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}
