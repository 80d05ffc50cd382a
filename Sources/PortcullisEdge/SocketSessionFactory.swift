import Foundation
import PortcullisConfig
import PortcullisWire

/// Builds the protocol machine a socket route speaks, from the route's settings and what
/// the request brought (Engine.IO query, identity).
enum SocketSessionFactory {
    static func make(
        socket: SocketAction, route: Route, target: String, query: EngineIORequestQuery?,
        transport: SocketTransportKind, connectionID: String, sid: String, identity: SocketConnection.Identity
    ) -> any SocketSession {
        switch socket.wireProtocol {
        case .raw:
            return RawSession(mode: socket.mode == .json ? .json : .opaque)
        case .socketio:
            let settings = socket.socketIO ?? SocketAction.SocketIO()
            let configuration = SocketIOSession.Configuration(
                engineSessionID: sid, socketID: connectionID, pingInterval: settings.pingInterval,
                pingTimeout: settings.pingTimeout, maxPayload: settings.maxPayload,
                connectTimeout: settings.connectTimeout, allowedNamespaces: settings.namespaces,
                upgrades: transport == .polling && settings.transports.contains(.websocket) ? ["websocket"] : [],
                hasHandshakeIdentity: identity.user != nil,
                readsAuthToken: route.auth?.tokenSources.contains(.socketIO) == true,
                authTokenField: settings.authTokenField, handshakeQuery: query?.parameters ?? [],
                refreshEvent: settings.refreshEvent, expiryNoticeEvent: settings.expiryEvent,
                maxAttachments: settings.maxAttachments, maxPacketSize: settings.maxPayload)
            return SocketIOSession(configuration: configuration)
        case .actioncable:
            let settings = socket.actionCable ?? SocketAction.ActionCable()
            let configuration = ActionCableSession.Configuration(
                pingInterval: settings.pingInterval, query: queryParameters(of: target),
                maxSubscriptions: settings.maxSubscriptions)
            return ActionCableSession(
                configuration: configuration, unixTimeAtStart: .seconds(Date().timeIntervalSince1970))
        }
    }

    /// `name=value` pairs of the target's query, form-decoded (`+` is a space); pairs that
    /// do not decode are left out.
    static func queryParameters(of target: String) -> [(name: String, value: String)] {
        guard let question = target.firstIndex(of: "?") else { return [] }
        let query = target[target.index(after: question)...].prefix { $0 != "#" }
        return query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { return nil }
            return (name, value)
        }
    }
}
