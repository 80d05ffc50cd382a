import NIOCore
import PortcullisBus
import PortcullisTestSupport

@testable import PortcullisRooms

/// Runs handlers without a worker or a Redis server: the context's client points at a Unix
/// socket that does not exist, so an app that touched Redis would fail instead of passing
/// by accident. For apps and context methods that only queue outputs.
struct HandlerHarness {
    static let names = StreamNames.standard
    static let timestamp: Int64 = 1_732_240_000_000

    /// The outputs `app` queues for `envelope`, in order.
    static func outputs(
        of app: any RoomsApp, for envelope: Envelope
    ) async throws -> [(stream: StreamName, envelope: Envelope)] {
        try await self.withContext(envelope) { context in
            try await app.handle(envelope, context: context)
            return context.outputs
        }
    }

    /// Calls `body` with a context for `envelope`, then closes its Redis client.
    static func withContext<Result>(
        _ envelope: Envelope, _ body: (RoomsContext) async throws -> Result
    ) async throws -> Result {
        let redis = try RedisClient(url: "unix:///nonexistent/portcullis-rooms-tests.sock", logger: testLogger)
        let context = RoomsContext(envelope: envelope, redis: redis, names: Self.names) { Self.timestamp }
        do {
            let result = try await body(context)
            await redis.close()
            return result
        } catch {
            await redis.close()
            throw error
        }
    }

    /// An inbound envelope as an edge writes it.
    static func inbound(
        _ kind: Envelope.Kind,
        app: String,
        connection: String = "edge-1.k3v9q2x8m1",
        user: String? = nil,
        namespace: String? = "/",
        event: String? = nil,
        data: String? = nil,
        arguments: Bool = false,
        attachments: [[UInt8]] = [],
        ack: Int? = nil
    ) -> Envelope {
        var envelope = Envelope(
            id: Envelope.randomID(), kind: kind, app: app, edge: StreamNames.edgeID(ofConnection: connection),
            connection: connection, user: user, namespace: namespace, event: event, ack: ack,
            data: data.map { .json($0) }, timestamp: Self.timestamp)
        envelope.arguments = arguments
        envelope.attachments = attachments.map { ByteBuffer(bytes: $0) }
        return envelope
    }
}
