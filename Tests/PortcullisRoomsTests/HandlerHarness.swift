import NIOCore
import PortcullisBus
import PortcullisTestSupport

@testable import PortcullisRooms

/// Runs handlers without a worker or a Redis server, on a store in memory, and returns
/// the envelopes they queue: for checks of the exact envelopes an app writes (the
/// ``InMemoryBus`` checks what clients receive).
struct HandlerHarness {
    static let names = StreamNames.standard
    static let timestamp: Int64 = 1_732_240_000_000

    /// The outputs `app` queues for `envelope`, in order.
    static func outputs(
        of app: any RoomsApp, for envelope: Envelope
    ) async throws -> [(stream: StreamName, envelope: Envelope)] {
        try await self.withContext(envelope, app: app.name) { context in
            try await app.handlers.handle(envelope, context: context)
            return context.outputs
        }
    }

    /// Calls `body` with a context for `envelope` on `storage`.
    static func withContext<Result>(
        _ envelope: Envelope, app: String = "test", storage: MemoryRoomsStorage = MemoryRoomsStorage(),
        _ body: (RoomsContext) async throws -> Result
    ) async throws -> Result {
        let store = RoomsStore(storage: storage, prefix: Self.names.prefix, app: app)
        return try await body(RoomsContext(envelope: envelope, store: store, names: Self.names) { Self.timestamp })
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
