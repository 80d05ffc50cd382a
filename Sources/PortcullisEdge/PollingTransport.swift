import NIOCore
import PortcullisWire

/// Engine.IO HTTP long-polling: the transport of a ``SocketConnection`` whose packets
/// travel in GET responses (server → client) and POST bodies (client → server).
///
/// Lives on the connection's event loop; the HTTP requests of the session may arrive on
/// any loop and reach it through ``SocketBus/pollingSession(_:)``, answering through a
/// ``PollResponder`` that hops back to the request's own channel.
///
/// Rules (Engine.IO 4): at most one GET waits at a time — a second is answered 400 and
/// ends the session; a POST's body is read whole before its packets reach the session,
/// so POSTs apply one at a time, in arrival order; a waiting GET is answered as soon as
/// packets are queued; after an upgrade to WebSocket every further
/// polling request is refused, and the GET still waiting is released with a noop. A
/// client that stops polling is caught by the Engine.IO heartbeat (its pong never comes).
final class PollingTransport: SocketTransport {
    /// Answers one polling request; called on the transport's loop, hops to the request's.
    typealias PollResponder = @Sendable (PollResponse) -> Void

    struct PollResponse: Sendable {
        var status: Int
        var contentType: String
        var body: String

        static func payload(_ body: String) -> PollResponse {
            PollResponse(status: 200, contentType: "text/plain; charset=UTF-8", body: body)
        }

        static let ok = PollResponse(status: 200, contentType: "text/html", body: "ok")

        /// The edge is draining: a transport error the client reconnects from.
        static let unavailable = PollResponse(
            status: 503, contentType: "application/json", body: #"{"code":3,"message":"Server shutting down"}"#)

        static func error(_ error: EngineIORequestError) -> PollResponse {
            PollResponse(status: error.httpStatus, contentType: "application/json", body: error.jsonBody)
        }
    }

    private enum State {
        case open
        /// A WebSocket with the session's sid is probing; polling still carries packets.
        case upgrading
        /// The WebSocket carries the session; polling requests are refused, and so is a
        /// second WebSocket for the sid (after its 101).
        case upgraded
        /// The client sent the close packet: the next GET gets a noop, then the sid is gone.
        case closedByClient
        /// The edge ended the session while no GET waited: the next GET gets what was
        /// queued and the close packet, then the sid is gone.
        case closedAwaitingGet
        case closed
    }

    let sid: String
    let connection: SocketConnection
    private let maxPayload: Int
    private var state = State.open
    private var queue: [SocketOutbound] = []
    private var waitingGet: PollResponder?
    private var onEnd: (() -> Void)?

    /// - Parameter onEnd: removes the session from its hub's registry.
    init(sid: String, connection: SocketConnection, maxPayload: Int, onEnd: @escaping () -> Void) {
        self.sid = sid
        self.connection = connection
        self.maxPayload = maxPayload
        self.onEnd = onEnd
    }

    var kind: SocketTransportKind { .polling }
    var isClosing: Bool {
        switch state {
        case .open, .upgrading: false
        case .upgraded, .closedByClient, .closedAwaitingGet, .closed: true
        }
    }

    var isUpgraded: Bool { state == .upgraded }
    /// Closed and waiting for the client's last GET (see ``closedByClient()`` and
    /// ``close(_:now:)``): the sid outlives the connection for a moment.
    var lingers: Bool { state == .closedByClient || state == .closedAwaitingGet }

    /// How long a closed session keeps its last packets for a GET that does not come.
    static let lingerTime: Duration = .seconds(10)

    // MARK: Requests

    /// A GET: answered at once when packets wait, else held until some are written.
    func poll(_ responder: @escaping PollResponder) {
        switch state {
        case .closedByClient:
            responder(.payload("6"))
            forget()
            return
        case .closedAwaitingGet:
            responder(.payload(SocketOutbound.pollingPayload(queue)))
            queue = []
            forget()
            return
        case .open, .upgrading, .upgraded, .closed:
            break
        }
        guard state == .open || state == .upgrading else {
            responder(.error(refusal))
            return
        }
        guard waitingGet == nil else {
            responder(.error(EngineIORequestError(code: .badRequest, reason: "overlapping GET")))
            fail("overlapping polling GET")
            return
        }
        waitingGet = responder
        flush()
    }

    /// A POST: each packet of the body goes to the session in order, then `ok`.
    func post(_ body: [UInt8], responder: @escaping PollResponder) {
        guard state == .open || state == .upgrading else {
            responder(.error(refusal))
            return
        }
        let packets: [EngineIOPacket]
        do {
            packets = try EngineIOPacket.decodePayload(body, maxPayload: maxPayload)
        } catch {
            responder(.error(EngineIORequestError(code: .badRequest, reason: "\(error)")))
            fail("bad polling payload: \(error.message)")
            return
        }
        for packet in packets {
            guard !connection.isEnding else { break }
            switch packet.payload {
            case .binary(let bytes):
                connection.receivedBinary(bytes)
            case .text:
                if packet.type == .close {
                    closedByClient()
                    break
                }
                var text = ""
                packet.encodeText(into: &text)
                connection.receivedText(text)
            }
        }
        responder(.ok)
    }

    /// Why a request for this sid is refused once polling no longer carries the session.
    private var refusal: EngineIORequestError {
        EngineIORequestError(
            code: .badRequest, reason: state == .upgraded ? "polling after the upgrade" : "the session has ended")
    }

    // MARK: Upgrade

    /// A WebSocket with this sid started probing (`2probe`): the waiting GET is released
    /// with a noop so the client can pause polling and send `5`.
    func upgradeProbed() {
        guard state == .open else { return }
        state = .upgrading
        queue.append(.text("6"))
        flush()
    }

    /// The probing WebSocket went away before `5`: polling carries on.
    func upgradeAbandoned() {
        if state == .upgrading { state = .open }
    }

    /// The client sent `5` on the WebSocket: it carries the session from now on. Packets
    /// still queued for polling move to it, in order.
    func upgraded(to transport: any SocketTransport) {
        guard state == .upgrading || state == .open else { return }
        state = .upgraded
        if let waitingGet {
            self.waitingGet = nil
            waitingGet(.payload("6"))
        }
        let pending = queue.filter { $0 != .text("6") }
        queue = []
        connection.transport = transport
        for outbound in pending {
            transport.write(outbound)
        }
        transport.flush()
    }

    // MARK: SocketTransport

    func write(_ outbound: SocketOutbound) {
        guard state == .open || state == .upgrading else { return }
        queue.append(outbound)
    }

    func write(encoded: EncodedMessages) -> Bool {
        guard state == .open || state == .upgrading, case .packets(let packets) = encoded else { return false }
        queue += packets
        return true
    }

    /// Answers the waiting GET with everything queued.
    func flush() {
        guard !queue.isEmpty, let waitingGet, state != .closedByClient else { return }
        self.waitingGet = nil
        let body = SocketOutbound.pollingPayload(queue)
        queue = []
        waitingGet(.payload(body))
    }

    /// Ends the session: a waiting GET gets what was queued and the close packet `1`; with
    /// no GET waiting, the next one does (for ``lingerTime`` at most), as the reference
    /// server buffers its close, so the client hears the goodbye instead of a 400.
    ///
    /// A drain is different: clients must reconnect (to another edge), and a close packet
    /// tells python-engineio the server is done with it for good. So the waiting GET fails
    /// with 503, which every client takes for a transport error and reconnects from, and
    /// the sid is forgotten at once.
    func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        guard state == .open || state == .upgrading else { return }
        if cause == .shutdown {
            queue = []
            if let waitingGet {
                self.waitingGet = nil
                waitingGet(.unavailable)
            }
            end()
            return
        }
        queue.append(.text("1"))
        if waitingGet != nil {
            flush()
            end()
            return
        }
        state = .closedAwaitingGet
        let forget = self.forget
        connection.hub.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime.timeAmount) { forget() }
        connection.transportClosed()
    }

    func tick(now: ContinuousClock.Instant) {}

    /// Polling reads one request at a time; the session's own bound applies.
    func pauseReads() {}
    func resumeReads() {}

    private func fail(_ reason: String) {
        connection.noteCause(.protocolError(code: .protocolError, message: reason))
        queue.append(.text("1"))
        flush()
        end()
    }

    /// The client's close packet (`1`): the connection ends now; the GET in flight, or
    /// the one the client sends right after, is answered with a noop, as the reference
    /// server does; a second of a bound later the sid is forgotten.
    private func closedByClient() {
        guard state == .open || state == .upgrading else { return }
        state = .closedByClient
        queue = []
        connection.noteCause(.connectionLost)
        if let waitingGet {
            self.waitingGet = nil
            waitingGet(.payload("6"))
            forget()
        } else {
            let forget = self.forget
            connection.hub.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { forget() }
        }
        connection.transportClosed()
    }

    /// Removes the sid from the hub (the connection's end does too).
    private func forget() {
        onEnd?()
        onEnd = nil
    }

    private func end() {
        guard state != .closed else { return }
        state = .closed
        if let waitingGet {
            self.waitingGet = nil
            waitingGet(.payload("1"))
        }
        queue = []
        onEnd?()
        onEnd = nil
        connection.transportClosed()
    }
}
