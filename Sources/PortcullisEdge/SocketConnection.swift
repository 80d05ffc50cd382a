import Foundation
import NIOCore
import PortcullisAuth
import PortcullisBus
import PortcullisConfig
import PortcullisWire

/// One client connection on a socket route, whatever carries it: runs the route's
/// protocol machine (``SocketSession``) and performs what it asks — writes through the
/// transport, appends envelopes through the loop's ``SocketHub``, verifies tokens with the
/// route's guard, keeps the hub's indexes, closes.
///
/// It also holds what outlives any one transport of a connection: the identity and its
/// expiry (closed with the protocol's notice when it passes, moved by an accepted
/// refresh), the rate limit, the appends still unanswered (reads pause at
/// ``maxUnansweredAppends``), and the namespaces an `open` was published for, so that each
/// gets its `close` however the connection ends.
///
/// Confined to its hub's event loop.
final class SocketConnection {
    /// Verifies a token offered after the upgrade (Socket.IO CONNECT `auth`, a refresh):
    /// signature, claims and revocation, against the guard current at that moment.
    typealias Verifier = (String) -> EventLoopFuture<Result<PortcullisAuth.Identity, AuthFailure>>

    /// Who the connection is, as far as the edge knows.
    struct Identity {
        var user: String?
        var claims: String?
        /// Unix seconds after which the connection is ended with the protocol's notice.
        var expiresAt: Int64?
        var scopes: [String] = []
        /// `jti`, matched by revocations of one token.
        var tokenID: String?
        /// The express-session id, checked for logout; a credential, never logged.
        var sessionID: String?

        init(
            user: String? = nil, claims: String? = nil, expiresAt: Int64? = nil, scopes: [String] = [],
            tokenID: String? = nil, sessionID: String? = nil
        ) {
            self.user = user
            self.claims = claims
            self.expiresAt = expiresAt
            self.scopes = scopes
            self.tokenID = tokenID
            self.sessionID = sessionID
        }

        init(_ identity: PortcullisAuth.Identity) {
            self.init(
                user: identity.subject, claims: identity.claimsJSON, expiresAt: identity.expiresAt,
                scopes: identity.scopes, tokenID: identity.tokenId, sessionID: identity.sessionId)
        }
    }

    let id: String
    let app: String
    let routeName: String
    let hub: SocketHub
    private(set) var identity: Identity
    /// The route's wire protocol (`raw`, `socketio`, `actioncable`), a metric label.
    let wireProtocol: String
    var user: String? { identity.user }
    var tokenID: String? { identity.tokenID }
    /// Where a room joined without `ns` goes (Socket.IO: `/`).
    var defaultNamespace: String? { session.defaultNamespace }
    /// The namespaces of the presence record: those with an `open` and no `close` yet.
    var presenceNamespaces: [String] { openNamespaces.compactMap { $0 }.sorted() }
    var sessionID: String? { identity.sessionID }
    /// Room memberships, kept here so a close leaves them without a search.
    var memberships: Set<SocketHub.RoomKey> = []
    /// Why the connection ends: its close frame, metric label and envelope reason.
    private(set) var closeCause = SocketCloseCause.connectionLost
    private(set) var isEnding = false
    /// What carries the connection now; released when it closes (it holds the connection
    /// too, through the pipeline or the hub's polling registry).
    var transport: (any SocketTransport)?
    private(set) var isStarted = false
    /// The Engine.IO sid of a connection that began on long-polling: the hub keeps it
    /// (upgraded or not) until the connection ends.
    var pollingSessionID: String?

    private var session: any SocketSession
    private let verifier: Verifier?
    private let accessLog: Bool
    private let opened = ContinuousClock.now
    private var expiresAt: ContinuousClock.Instant?
    private var limiter: MessageRateLimiter<ContinuousClock.Instant>?
    private var unansweredAppends = 0
    /// Namespaces (nil: the connection itself, raw) whose `open` was published and whose
    /// `close` was not yet.
    private var openNamespaces: Set<String?> = []
    private var registered = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: ContinuousClock.Instant?

    /// Reading stops at this many unanswered appends and resumes at a quarter of it.
    static let maxUnansweredAppends = 64

    /// - Parameter verifier: nil on routes that take no tokens.
    init(
        id: String, routeName: String, settings: SocketAction, session: any SocketSession, identity: Identity,
        hub: SocketHub, accessLog: Bool = false, verifier: Verifier? = nil
    ) {
        let now = ContinuousClock.now
        self.id = id
        self.app = settings.app
        self.routeName = routeName
        self.wireProtocol = settings.wireProtocol.rawValue
        self.hub = hub
        self.identity = identity
        self.session = session
        self.verifier = verifier
        self.accessLog = accessLog
        self.expiresAt = identity.expiresAt.map { Self.instant(unixSeconds: $0, now: now) }
        self.limiter = settings.rateLimit.map {
            MessageRateLimiter(rate: $0.messagesPerSecond, burst: $0.burst, closeAfter: $0.closeAfter, now: now)
        }
    }

    // MARK: Lifecycle

    /// Registers with the hub and runs the session's opening.
    func start(now: ContinuousClock.Instant = .now) {
        guard !isStarted else { return }
        isStarted = true
        hub.register(self)
        registered = true
        perform(session.start(now: now), now: now)
    }

    /// The transport is gone: every open namespace gets its `close`, the hub forgets the
    /// connection.
    func transportClosed() {
        transport = nil
        guard registered else { return }
        registered = false
        isEnding = true
        timer?.cancel()
        timer = nil
        for namespace in openNamespaces {
            var close = envelope(.close)
            close.namespace = namespace
            close.reason = closeCause.description
            hub.append(close, app: app)
        }
        openNamespaces = []
        hub.unregister(self)
        if accessLog {
            let lifetime = opened.duration(to: .now)
            hub.logger.info(
                "socket closed",
                metadata: [
                    "route": "\(routeName)", "protocol": "\(wireProtocol)", "conn.id": "\(id)",
                    "subject": "\(user ?? "-")", "reason": "\(closeCause)",
                    "duration.ms":
                        "\(lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000)",
                ])
        }
    }

    /// Records why the connection ends when the transport learns it first (the client
    /// closed, a frame broke RFC 6455). The first cause is the one kept.
    func noteCause(_ cause: SocketCloseCause) {
        guard !isEnding else { return }
        isEnding = true
        closeCause = cause
    }

    // MARK: Inbound

    func receivedText(_ text: String, now: ContinuousClock.Instant = .now) {
        guard admit(now: now) else { return }
        perform(session.receivedText(text, now: now), now: now)
    }

    func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant = .now) {
        guard admit(now: now) else { return }
        perform(session.receivedBinary(bytes, now: now), now: now)
    }

    /// The rate limit: a refused message gets the protocol's notice, too many close.
    private func admit(now: ContinuousClock.Instant) -> Bool {
        guard !isEnding else { return false }
        guard var limiter else { return true }
        let decision = limiter.message(now: now)
        self.limiter = limiter
        switch decision {
        case .accept:
            return true
        case .refuse:
            perform(session.rateLimited(), now: now)
            return false
        case .close:
            end(.rateLimited, now: now)
            return false
        }
    }

    // MARK: Edge decisions

    /// Ends the connection for `cause` with the protocol's notice (expiry, revocation,
    /// drain, a handler's disconnect).
    func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant = .now) {
        guard !isEnding else { return }
        perform(session.end(cause, now: now), now: now)
    }

    /// A handler's `confirm`, `reject` or namespace-scoped `disconnect`.
    func control(_ control: SocketControl, now: ContinuousClock.Instant = .now) {
        guard !isEnding else { return }
        perform(session.control(control, now: now), now: now)
    }

    /// Driven by the hub's sweep and by the precise timer: identity expiry, the session's
    /// heartbeats, then the transport's own timers.
    func tick(now: ContinuousClock.Instant) {
        if let expiresAt, now >= expiresAt, !isEnding {
            end(.expired, now: now)
        }
        if !isEnding, let deadline = session.nextDeadline, now >= deadline {
            perform(session.tick(now: now), now: now)
        }
        transport?.tick(now: now)
    }

    // MARK: Outbound

    /// Writes a fan-out's message in every encoding this connection needs; false when it
    /// took nothing. `namespace` is the envelope's (or the room membership's) namespace.
    @discardableResult
    func deliver(_ delivery: OutboundDelivery, namespace: String?, cache: inout OutboundDelivery.Cache) -> Bool {
        guard !isEnding, let transport, !transport.isClosing else { return false }
        var sent = false
        for encoding in session.encodings(for: namespace) {
            guard let encoded = cache.encoded(delivery, as: encoding, for: transport.kind) else { continue }
            if transport.write(encoded: encoded) { sent = true }
        }
        if sent { transport.flush() }
        return sent
    }

    // MARK: Actions

    private func perform(_ actions: [SocketSessionAction], now: ContinuousClock.Instant) {
        guard !actions.isEmpty else { return }
        for action in actions {
            switch action {
            case .send(let outbound):
                transport?.write(outbound)
            case .publish(let inbound):
                publish(inbound)
            case .verify(let request):
                verify(request)
            case .enterNamespace:
                break
            case .leaveNamespace(let namespace):
                hub.leave(self, namespace: namespace)
            case .close(let cause):
                close(cause, now: now)
            }
        }
        transport?.flush()
        armTimer(now: now)
    }

    private func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        if !isEnding {
            isEnding = true
            closeCause = cause
        }
        transport?.close(cause, now: now)
    }

    /// The sweep runs once a second; a session deadline sooner than that (Engine.IO
    /// heartbeats of a few hundred ms) gets a timer of its own.
    private func armTimer(now: ContinuousClock.Instant) {
        guard !isEnding, let deadline = session.nextDeadline, deadline < now.advanced(by: .seconds(1)) else { return }
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        let delay = max(.zero, now.duration(to: deadline))
        timer = hub.eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) { [self] in
            timer = nil
            timerDeadline = nil
            let now = ContinuousClock.now
            guard !isEnding, let deadline = session.nextDeadline, now >= deadline else {
                armTimer(now: now)
                return
            }
            perform(session.tick(now: now), now: now)
        }
    }

    // MARK: Appends

    private func publish(_ inbound: SocketInbound) {
        var message = envelope(Envelope.Kind(rawValue: inbound.kind.rawValue))
        message.namespace = inbound.namespace
        message.event = inbound.event
        message.ack = inbound.ack
        message.reason = inbound.reason
        message.arguments = inbound.arguments
        message.attachments = inbound.attachments.map { ByteBuffer(bytes: $0) }
        message.data = inbound.data.map(Self.payload)
        switch inbound.kind {
        case .open:
            message.claims = identity.claims
            openNamespaces.insert(inbound.namespace)
            hub.append(message, app: app)
            if inbound.namespace != nil { hub.recordPresence(self) }
        case .close:
            guard openNamespaces.remove(inbound.namespace) != nil else { return }
            hub.append(message, app: app)
            if inbound.namespace != nil { hub.recordPresence(self) }
        case .message, .ack:
            EdgeMetrics.shared.socketMessageIn()
            publishFromClient(message, inbound: inbound)
        }
    }

    /// A client message: counted against the unanswered appends (reads pause when too
    /// many wait), and a failed append is answered with the protocol's error.
    private func publishFromClient(_ message: Envelope, inbound: SocketInbound) {
        unansweredAppends += 1
        if unansweredAppends >= Self.maxUnansweredAppends { transport?.pauseReads() }
        hub.append(message, app: app).assumeIsolated().whenComplete { [self] result in
            unansweredAppends -= 1
            if case .failure(let error) = result, !isEnding {
                let unavailable = (error as? RedisError)?.code == .bufferFull
                perform(session.publishFailed(inbound, busUnavailable: unavailable), now: .now)
            }
            if unansweredAppends <= Self.maxUnansweredAppends / 4 {
                transport?.resumeReads()
            }
        }
    }

    private func envelope(_ kind: Envelope.Kind) -> Envelope {
        Envelope(
            id: Envelope.randomID(), kind: kind, app: app, edge: hub.edgeID, connection: id, user: user,
            timestamp: Int64(Date().timeIntervalSince1970 * 1000))
    }

    private static func payload(_ payload: SocketPayload) -> Envelope.Payload {
        switch payload {
        case .json(let text): .json(text)
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(ByteBuffer(bytes: bytes))
        }
    }

    // MARK: Verification

    /// Runs a token check the session asked for and answers it with the outcome:
    /// - no token: `notRequired` when the connection already has an identity or the route
    ///   is public, else refused;
    /// - a CONNECT token on an anonymous connection becomes its identity;
    /// - any other token must name the same subject with at least the scopes held; an
    ///   accepted refresh moves the expiry and is announced to handlers (`refresh`).
    private func verify(_ request: SocketVerification) {
        guard let token = request.token else {
            if identity.user != nil || verifier == nil {
                answer(request, .notRequired)
            } else {
                answer(request, .refused(code: AuthFailure.Code.missingToken.description, message: "no token"))
            }
            return
        }
        guard let verifier else {
            answer(request, .notRequired)
            return
        }
        verifier(token).assumeIsolated().whenSuccess { [self] result in
            guard !isEnding else { return }
            switch result {
            case .failure(let failure):
                answer(request, .refused(code: failure.code.description, message: failure.message))
            case .success(let verified):
                if let user = identity.user {
                    guard verified.subject == user else {
                        answer(request, .refused(code: "wrong_subject", message: "the token is for another subject"))
                        return
                    }
                    guard Set(identity.scopes).isSubset(of: verified.scopes) else {
                        answer(request, .refused(code: "fewer_scopes", message: "the token has fewer scopes"))
                        return
                    }
                }
                let isRefresh: Bool
                if case .refresh = request.purpose { isRefresh = true } else { isRefresh = false }
                adopt(verified, announce: isRefresh)
                answer(request, .accepted(expiresAt: verified.expiresAt))
            }
        }
    }

    private func answer(_ request: SocketVerification, _ outcome: SocketVerificationOutcome) {
        perform(session.verified(outcome, for: request, now: .now), now: .now)
    }

    /// Takes a verified identity: a first one joins the hub's user index; it moves the
    /// expiry, and a refresh is published as a `refresh` envelope.
    private func adopt(_ verified: PortcullisAuth.Identity, announce: Bool) {
        let previousUser = identity.user
        identity = Identity(verified)
        expiresAt = verified.expiresAt.map { Self.instant(unixSeconds: $0, now: .now) }
        if previousUser == nil { hub.identified(self) }
        if announce {
            var refreshed = envelope(.refresh)
            refreshed.claims = verified.claimsJSON
            hub.append(refreshed, app: app)
        }
    }

    private static func instant(unixSeconds: Int64, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        now.advanced(by: .seconds(unixSeconds - Int64(Date().timeIntervalSince1970)))
    }
}
