import NIOCore

/// What a cluster client does when one command fails, with no IO and the time passed in,
/// so that every rule is tested without a cluster. One value per command, kept across its
/// retries.
///
/// - `-MOVED` (the slot has a new master) and `-ASK` (the slot is being migrated) are
///   followed at once, and so is `-UNBLOCKED` (a blocked read woken because its stream
///   moved away), up to ``maximumRedirects`` times per command.
/// - `-TRYAGAIN`, `-CLUSTERDOWN`, `-MASTERDOWN` (the cluster is settling after a failover or
///   during a migration) and a slot with no master are retried after a wait that doubles
///   from 20 ms up to 1 s, until ``window`` has passed since the first of them.
/// - `clientClosed` from a node's client means the node left the map before the command was
///   written: it is sent again at once (if the cluster client itself was closed, that send
///   fails it).
/// - Anything else goes to the caller; a lost connection or a full buffer also asks for a
///   fresh map.
///
/// None of the retried cases ran the command, so a retry never applies it twice.
struct RedisClusterRetry {
    static let maximumRedirects = 16
    static let window = TimeAmount.seconds(10)

    enum Action: Equatable {
        /// Record that `slot` is served by `endpoint`, read the map again, send again.
        case moved(slot: Int, to: RedisConfiguration.Endpoint)
        /// Send once to `endpoint`, after `ASKING`.
        case ask(RedisConfiguration.Endpoint)
        case resend
        case resendAfter(TimeAmount, refreshingMap: Bool)
        case fail(refreshingMap: Bool)
    }

    private(set) var redirects = 0
    private(set) var retries = 0
    private var firstRefusal: NIODeadline?

    /// The command failed with `error` on `node`.
    mutating func failed(_ error: any Error, on node: RedisConfiguration.Endpoint, now: NIODeadline) -> Action {
        guard let error = error as? RedisError else { return .fail(refreshingMap: false) }
        let mayRedirect = self.redirects < Self.maximumRedirects
        if mayRedirect, let redirect = RedisClusterRedirect(error, from: node) {
            self.redirects += 1
            switch redirect.kind {
            case .moved: return .moved(slot: redirect.slot, to: redirect.endpoint)
            case .ask: return .ask(redirect.endpoint)
            }
        }
        switch error.serverCode {
        case "TRYAGAIN":
            return self.retryLater(now: now, refreshingMap: false)
        case "CLUSTERDOWN", "MASTERDOWN":
            return self.retryLater(now: now, refreshingMap: true)
        case "UNBLOCKED" where mayRedirect:
            self.redirects += 1
            return .resend
        default:
            break
        }
        if error.code == .clientClosed {
            return .resend
        }
        return .fail(refreshingMap: error.code == .connectionClosed || error.code == .bufferFull)
    }

    /// The command's slot has no master in the map.
    mutating func noMaster(now: NIODeadline) -> Action {
        self.retryLater(now: now, refreshingMap: false)
    }

    private mutating func retryLater(now: NIODeadline, refreshingMap: Bool) -> Action {
        let first = self.firstRefusal ?? now
        guard now < first + Self.window else { return .fail(refreshingMap: refreshingMap) }
        self.firstRefusal = first
        self.retries += 1
        let delay = TimeAmount.milliseconds(Int64(min(1000, 10 << min(self.retries, 7))))
        return .resendAfter(delay, refreshingMap: refreshingMap)
    }
}
