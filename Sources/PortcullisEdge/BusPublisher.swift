import NIOCore
import PortcullisBus

/// Where the publish API's envelopes go; the edge's is ``BusPublisher``, tests record.
protocol EnvelopePublisher: Sendable {
    /// Appends `envelopes` in order, from `eventLoop`; succeeds with how many were
    /// appended, fails with a ``PublishError`` (``PublishError/Code/unavailable``).
    func publish(_ envelopes: [Envelope], on eventLoop: EventLoop) -> EventLoopFuture<Int>
}

/// Appends the publish API's envelopes to the bus through the Redis client of the event
/// loop the request came in on — the pipelined connection that loop's socket appends use —
/// each to the stream its target picks (`StreamNames.outbound(for:)`).
///
/// A backend is never left hanging: when the client has no connection the request fails at
/// once and nothing is queued (queued appends would be sent whenever Redis comes back,
/// after the backend was told they failed), and when Redis does not answer every append
/// within ``timeout`` the request fails saying that some may have been published.
final class BusPublisher: EnvelopePublisher {
    static let timeout: TimeAmount = .seconds(5)

    private let names: StreamNames
    private let pools: PoolRegistry

    init(names: StreamNames, pools: PoolRegistry) {
        self.names = names
        self.pools = pools
    }

    func publish(_ envelopes: [Envelope], on eventLoop: EventLoop) -> EventLoopFuture<Int> {
        guard let redis = pools.pool(for: eventLoop).redis else {
            return eventLoop.makeFailedFuture(PublishError(.unavailable, "the edge has no redis.url"))
        }
        let names = self.names
        return redis.isConnected.hop(to: eventLoop).assumeIsolated().flatMap { connected in
            guard connected else {
                return eventLoop.makeFailedFuture(
                    PublishError(.unavailable, "the bus (Redis) is unreachable; nothing was published"))
            }
            guard !envelopes.isEmpty else { return eventLoop.makeSucceededFuture(0) }
            let appends = envelopes.map { redis.send(names.outboundAppend($0)) }
            return Self.answer(appends, on: eventLoop)
        }.nonisolated()
    }

    /// The count of `appends` once all succeeded; a failure when one failed or when they
    /// are not all answered within ``timeout``.
    private static func answer(_ appends: [EventLoopFuture<RESPValue>], on eventLoop: EventLoop) -> EventLoopFuture<Int>
    {
        let promise = eventLoop.makePromise(of: Int.self)
        var finished = false
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard !finished else { return }
            finished = true
            promise.fail(
                PublishError(
                    .unavailable,
                    "Redis did not answer within \(timeout.nanoseconds / 1_000_000_000) s; "
                        + "some messages may have been published"))
        }
        EventLoopFuture.whenAllComplete(appends, on: eventLoop).assumeIsolated().whenSuccess { results in
            timer.cancel()
            guard !finished else { return }
            finished = true
            let failures = results.compactMap { result -> Error? in
                if case .failure(let error) = result { return error }
                return nil
            }
            guard let first = failures.first else {
                promise.succeed(results.count)
                return
            }
            promise.fail(
                PublishError(
                    .unavailable,
                    "Redis failed \(failures.count) of \(results.count) appends (\(first)); the others were published"))
        }
        return promise.futureResult
    }
}
