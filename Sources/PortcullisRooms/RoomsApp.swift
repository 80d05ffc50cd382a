import PortcullisBus

/// An app's logic: one call per inbound envelope of `<prefix>:in:<name>`.
///
/// The worker calls ``handle(_:context:)`` for every known-kind envelope it has not seen
/// before, then XADDs what the handler queued on the context, then XACKs. A handler that
/// throws leaves the entry pending (no output is written); it is retried after
/// `worker.claim_idle` and dead-lettered after `worker.max_deliveries` deliveries.
///
/// Delivery is at least once and several workers run in parallel, so handlers must be
/// idempotent and must not assume envelope N finished before N+1 started.
public protocol RoomsApp: Sendable {
    /// The app name: `<prefix>:in:<name>` and consumer group `portcullis-rooms:<name>`.
    var name: String { get }

    func handle(_ envelope: Envelope, context: RoomsContext) async throws
}
