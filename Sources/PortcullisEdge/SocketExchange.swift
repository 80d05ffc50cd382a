import NIOCore
import NIOHTTP1
import PortcullisConfig
import PortcullisWire

/// A request to a socket route the edge answers itself, from its head to the 101, the
/// polling response or a refusal.
final class SocketExchange {
    enum Purpose {
        /// A WebSocket for a new connection, being authenticated.
        case webSocket(WebSocketHandshake.Accepted, query: EngineIORequestQuery?)
        /// A polling handshake, being authenticated.
        case pollingHandshake(EngineIORequestQuery)
        /// A GET or POST of polling session `sid`, waiting for its answer.
        case poll(sid: String)
        case send(sid: String)
    }

    let head: HTTPRequestHead
    let requestId: String
    let route: RouteTable.Entry
    let socket: SocketAction
    let purpose: Purpose
    var requestEnded = false
    var timer: Scheduled<Void>?
    /// A POST's body, bounded by the route's `max_payload`.
    var body: [UInt8] = []

    init(
        head: HTTPRequestHead, requestId: String, route: RouteTable.Entry, socket: SocketAction, purpose: Purpose
    ) {
        self.head = head
        self.requestId = requestId
        self.route = route
        self.socket = socket
        self.purpose = purpose
    }
}
