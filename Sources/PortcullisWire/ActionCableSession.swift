/// The ActionCable protocol (`actioncable-v1-json`) of one connection, as a pure state
/// machine behind the ``SocketSession`` seam.
///
/// It speaks to Rails' JS client as the Ruby server does (protocols.md §3), with the
/// handler on the bus playing the channel:
/// - ``start(now:)`` sends `welcome` and arms the heartbeat: a `ping` carrying Unix seconds
///   every ``Configuration/pingInterval``, due at ``nextDeadline`` and sent by ``tick(now:)``.
/// - `subscribe` publishes an `open` for the identifier and leaves the subscription
///   pending until the handler answers with ``SocketControl/confirm(namespace:)`` or
///   ``SocketControl/reject(namespace:reason:)``. Only confirmed subscriptions are entered
///   in the hub and receive broadcasts (``encodings(for:)``), and only they may send
///   `message`s.
/// - `unsubscribe`, a handler's ``SocketControl/disconnect(namespace:reason:)`` and
///   ``end(_:now:)`` publish one `close` per subscription whose `open` was published.
/// - The configured refresh command asks the edge to verify a fresh token
///   (``SocketSessionAction/verify(_:)``) and answers with `refreshed` or `refresh_rejected`.
///
/// Invariants:
/// - Subscriptions are keyed by the identifier's decoded string
///   (``ActionCableIdentifier/string``), as Rails and the JS client key them; every frame
///   about one echoes the client's own token (``ActionCableIdentifier/jsonToken``).
/// - Repeated `subscribe`s are idempotent: the JS client re-sends one every 500 ms until it
///   is confirmed and re-subscribes everything after each `welcome`. A pending repeat does
///   nothing; a confirmed repeat re-sends `confirm_subscription` (a client whose confirm
///   crossed its retry still gets one) and publishes nothing.
/// - A connection holds at most ``Configuration/maxSubscriptions`` subscriptions, pending
///   ones included; a `subscribe` beyond them is answered `reject_subscription`.
/// - What Rails logs and drops, this drops without a word and without closing: frames that
///   do not decode (``ActionCableCommandError``), unknown commands, `unsubscribe` or
///   `message` for a subscription the connection does not hold (or holds pending), binary
///   frames. A pure machine has no logger; the edge counts what it needs to.
/// - Time is passed in, never read. Unix time for pings comes from the instant given to
///   ``start(now:)`` and ``init(configuration:unixTimeAtStart:)``'s reading of the wall
///   clock at that instant.
/// - After ``end(_:now:)`` every event answers nothing.
public struct ActionCableSession: SocketSession {
    /// How a route's ActionCable connections behave; one value per connection, since it
    /// carries the handshake's query.
    public struct Configuration: Sendable {
        /// Between two `ping`s; Rails' `BEAT_INTERVAL`. The JS client calls a connection stale
        /// after 6 s without any frame, so keep it well under that. Default 3 s.
        public var pingInterval: Duration
        /// The upgrade request's query parameters, in request order, handed to the handler in
        /// every `open` as the `query` object. Default none.
        public var query: [(name: String, value: String)]
        /// The `command` of the in-band token refresh, `{"command":"refresh","token":"…"}`;
        /// nil turns the refresh off (the frame is then an unknown command, dropped). The three
        /// Rails commands always win over it. Default `refresh`.
        public var refreshCommand: String?
        /// The most subscriptions, pending and confirmed, one connection may hold. Default 100.
        public var maxSubscriptions: Int

        public init(
            pingInterval: Duration = .seconds(3), query: [(name: String, value: String)] = [],
            refreshCommand: String? = "refresh", maxSubscriptions: Int = 100
        ) {
            precondition(pingInterval > .zero, "an ActionCable ping interval must be positive")
            self.pingInterval = pingInterval
            self.query = query
            self.refreshCommand = refreshCommand
            self.maxSubscriptions = maxSubscriptions
        }
    }

    private enum State: Sendable {
        /// Made, not yet started.
        case idle
        /// Welcomed; the next `ping` is due at `nextPing`.
        case open(startedAt: ContinuousClock.Instant, nextPing: ContinuousClock.Instant)
        /// Ended: nothing more is sent or published.
        case closed
    }

    /// One subscription the client asked for and the handler has not refused.
    private struct Subscription: Sendable {
        let identifier: ActionCableIdentifier
        /// False while the handler has not answered the `open`.
        var confirmed: Bool
    }

    public let configuration: Configuration
    /// Wall-clock time since the Unix epoch at the instant given to ``start(now:)``.
    private let unixTimeAtStart: Duration
    /// The handshake query as the JSON object every `open` carries, built once.
    private let queryJSON: String
    private var state = State.idle
    /// In subscription order, so closes and encodings come out the same way every time. An
    /// array searched by identifier rather than a dictionary plus an order list: a
    /// connection holds a few subscriptions (at most ``Configuration/maxSubscriptions``),
    /// and one allocation per connection less is measurable at 10k idle connections.
    private var subscriptions: [Subscription] = []

    /// - Parameters:
    ///   - unixTimeAtStart: the wall clock (time since 1970-01-01 UTC) read when the edge
    ///     calls ``start(now:)``; pings carry it advanced by the monotonic time since then.
    public init(configuration: Configuration = Configuration(), unixTimeAtStart: Duration) {
        self.configuration = configuration
        self.unixTimeAtStart = unixTimeAtStart
        self.queryJSON = Self.queryObject(configuration.query)
    }

    // MARK: Events

    /// Sends `{"type":"welcome"}` and arms the first ping.
    public mutating func start(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard case .idle = self.state else { return [] }
        self.state = .open(startedAt: now, nextPing: now.advanced(by: self.configuration.pingInterval))
        return [.send(.text(ActionCableServerMessage.welcome.text))]
    }

    /// One command: `subscribe`, `unsubscribe`, `message` (published with the action as
    /// `event`, `receive` when there is none, as Rails dispatches it, and the `data` object's
    /// text as sent), or the refresh command. Anything else is dropped without a word.
    public mutating func receivedText(_ text: String, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard case .open = self.state else { return [] }
        let command: ActionCableCommand
        do throws(ActionCableCommandError) {
            command = try ActionCableCommand(decoding: text)
        } catch {
            guard error.code == .unknownCommand, let refresh = self.refreshRequest(in: text) else { return [] }
            return [.verify(refresh)]
        }
        switch command {
        case .subscribe(let identifier):
            return self.subscribe(identifier)
        case .unsubscribe(let identifier):
            return self.unsubscribe(identifier)
        case .message(let identifier, let action, let data):
            guard self.subscription(identifier.string)?.confirmed == true else { return [] }
            let message = SocketInbound(
                kind: .message, namespace: identifier.string, event: action ?? Self.receiveAction, data: .json(data))
            return [.publish(message)]
        }
    }

    /// Binary frames are not ActionCable; Rails logs and ignores them, and so do we.
    public mutating func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [SocketSessionAction] {
        []
    }

    /// Sends `{"type":"ping","message":<Unix seconds>}` once the ping is due. Pings keep
    /// their cadence from ``start(now:)``; a tick late by a whole interval or more sends one
    /// ping and re-arms from `now`.
    public mutating func tick(now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard case .open(let startedAt, let nextPing) = self.state, now >= nextPing else { return [] }
        let interval = self.configuration.pingInterval
        var next = nextPing.advanced(by: interval)
        if next <= now { next = now.advanced(by: interval) }
        self.state = .open(startedAt: startedAt, nextPing: next)
        let unixTime = (self.unixTimeAtStart + startedAt.duration(to: now)).components.seconds
        return [.send(.text(ActionCableServerMessage.ping(unixTime: unixTime).text))]
    }

    public var nextDeadline: ContinuousClock.Instant? {
        guard case .open(_, let nextPing) = self.state else { return nil }
        return nextPing
    }

    /// Answers the refresh command: ``refreshedFrame(expiresAt:)``, or
    /// ``refreshRejectedFrame(code:)`` (the connection keeps its old expiry).
    public mutating func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, now: ContinuousClock.Instant
    ) -> [SocketSessionAction] {
        guard case .open = self.state, case .refresh = request.purpose else { return [] }
        switch outcome {
        case .accepted(let expiresAt):
            return [.send(.text(Self.refreshedFrame(expiresAt: expiresAt)))]
        case .notRequired:
            return [.send(.text(Self.refreshedUnchangedFrame))]
        case .refused(let code, _):
            return [.send(.text(Self.refreshRejectedFrame(code: code)))]
        }
    }

    /// ActionCable has no in-band error for a message the server could not take: Rails
    /// logs it and the client never hears. Nothing is sent.
    public mutating func publishFailed(_ inbound: SocketInbound, busUnavailable: Bool) -> [SocketSessionAction] {
        []
    }

    /// Sends the cause's `disconnect` frame (``disconnectFrame(for:)``; none when the
    /// connection is already gone), publishes a `close` with the cause's description for
    /// every subscription, pending ones included, and closes. The close takes the
    /// connection out of every hub index, so no ``SocketSessionAction/leaveNamespace(_:)``
    /// precedes it.
    public mutating func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        if case .closed = self.state { return [] }
        self.state = .closed
        var actions: [SocketSessionAction] = []
        if let frame = Self.disconnectFrame(for: cause) {
            actions.append(.send(.text(frame.text)))
        }
        for subscription in self.subscriptions {
            actions.append(
                .publish(
                    SocketInbound(kind: .close, namespace: subscription.identifier.string, reason: cause.description)))
        }
        self.subscriptions = []
        actions.append(.close(cause))
        return actions
    }

    /// The handler's answer to a subscription, or its decision to end one:
    /// - confirm a pending subscription: `confirm_subscription`, then enter it. Confirming one
    ///   already confirmed, or one the client has since dropped, does nothing.
    /// - reject a pending subscription: `reject_subscription`, and it is forgotten (the
    ///   handler that refused it needs no `close`). Rejecting a confirmed one ends it as
    ///   `disconnect` does, with the reason (`rejected` when none).
    /// - disconnect a subscription: a server-side unsubscribe. Rails has no frame for it; we
    ///   send `reject_subscription`, on which the JS client forgets the subscription and
    ///   calls its `rejected` callback, so both sides agree it is gone (and, were it still
    ///   pending, the client's 500 ms retries stop). Then it is left (when confirmed) and a
    ///   `close` with the reason is published.
    public mutating func control(_ control: SocketControl, now: ContinuousClock.Instant) -> [SocketSessionAction] {
        guard case .open = self.state else { return [] }
        switch control {
        case .confirm(let namespace):
            guard let index = self.index(of: namespace), !self.subscriptions[index].confirmed else { return [] }
            self.subscriptions[index].confirmed = true
            let subscription = self.subscriptions[index]
            return [
                .send(.text(ActionCableServerMessage.confirmSubscription(subscription.identifier).text)),
                .enterNamespace(namespace),
            ]
        case .reject(let namespace, let reason):
            guard let subscription = self.subscription(namespace) else { return [] }
            guard subscription.confirmed else {
                self.forget(namespace)
                return [.send(.text(ActionCableServerMessage.rejectSubscription(subscription.identifier).text))]
            }
            return self.drop(namespace, reason: reason ?? Self.rejectedReason)
        case .disconnect(let namespace, let reason):
            return self.drop(namespace, reason: reason)
        }
    }

    /// Confirmed subscriptions only: a pending one receives nothing, as in Rails, where
    /// streams start with the channel's `subscribed`, before the confirmation.
    public func encodings(for namespace: String?) -> [SocketEncoding] {
        guard let namespace else {
            return self.subscriptions.compactMap { subscription in
                subscription.confirmed
                    ? SocketEncoding(format: .actionCable, namespace: subscription.identifier.string) : nil
            }
        }
        guard self.subscription(namespace)?.confirmed == true else { return [] }
        return [SocketEncoding(format: .actionCable, namespace: namespace)]
    }

    // MARK: Commands

    /// The `event` of a `message` without an action: the channel method Rails calls then.
    static let receiveAction = "receive"
    /// The close reason of a confirmed subscription the handler rejected without one.
    static let rejectedReason = "rejected"
    /// The close reason of a client's `unsubscribe`.
    static let unsubscribedReason = "unsubscribed"

    private mutating func subscribe(_ identifier: ActionCableIdentifier) -> [SocketSessionAction] {
        let key = identifier.string
        if let subscription = self.subscription(key) {
            guard subscription.confirmed else { return [] }
            return [.send(.text(ActionCableServerMessage.confirmSubscription(identifier).text))]
        }
        guard self.subscriptions.count < self.configuration.maxSubscriptions else {
            return [.send(.text(ActionCableServerMessage.rejectSubscription(identifier).text))]
        }
        self.subscriptions.append(Subscription(identifier: identifier, confirmed: false))
        let open = SocketInbound(
            kind: .open, namespace: key, data: .json(Self.openData(identifier, query: self.queryJSON)))
        return [.publish(open)]
    }

    private mutating func unsubscribe(_ identifier: ActionCableIdentifier) -> [SocketSessionAction] {
        let key = identifier.string
        guard let subscription = self.forget(key) else { return [] }
        let close = SocketInbound(kind: .close, namespace: key, reason: Self.unsubscribedReason)
        return subscription.confirmed ? [.leaveNamespace(key), .publish(close)] : [.publish(close)]
    }

    /// Ends a subscription on the server's side: see ``control(_:now:)``.
    private mutating func drop(_ key: String, reason: String) -> [SocketSessionAction] {
        guard let subscription = self.forget(key) else { return [] }
        var actions: [SocketSessionAction] = subscription.confirmed ? [.leaveNamespace(key)] : []
        actions.append(.send(.text(ActionCableServerMessage.rejectSubscription(subscription.identifier).text)))
        actions.append(.publish(SocketInbound(kind: .close, namespace: key, reason: reason)))
        return actions
    }

    @discardableResult
    private mutating func forget(_ key: String) -> Subscription? {
        guard let index = self.index(of: key) else { return nil }
        return self.subscriptions.remove(at: index)
    }

    private func index(of key: String) -> Int? {
        self.subscriptions.firstIndex { $0.identifier.string == key }
    }

    private func subscription(_ key: String) -> Subscription? {
        self.index(of: key).map { self.subscriptions[$0] }
    }
}
