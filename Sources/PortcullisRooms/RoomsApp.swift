import PortcullisBus

/// An app: a name and the handlers that implement its rooms.
///
/// The worker reads ``handlers`` once, then runs them for every known-kind envelope of
/// `<prefix>:in:<name>` it has not seen before, XADDs what they queued, then XACKs. A
/// handler that throws leaves the entry pending (no output is written); it is retried
/// after `worker.claim_idle` and dead-lettered after `worker.max_deliveries` deliveries —
/// except for a ``RoomsInputError``, the client's fault, which is acknowledged at once.
///
/// Delivery is at least once and several workers run in parallel, so handlers must be
/// idempotent and must not assume envelope N finished before N+1 started.
public protocol RoomsApp: Sendable {
    /// The app name: `<prefix>:in:<name>` and consumer group `portcullis-rooms:<name>`.
    var name: String { get }

    /// The app's namespaces and channels (see ``RoomsHandlers``).
    var handlers: RoomsHandlers { get }
}
