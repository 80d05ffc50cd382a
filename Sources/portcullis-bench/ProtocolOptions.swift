import ArgumentParser

/// Which protocol the connections of a client subcommand speak (`hold`, `broadcast`), as
/// the edge's socket route the `--url` names does (`socket.protocol`).
struct ProtocolOptions: ParsableArguments {
    enum Name: String, CaseIterable, ExpressibleByArgument {
        case raw, socketio, actioncable
    }

    @Option(
        name: .customLong("protocol"),
        help: """
            raw, socketio (Engine.IO 4 / Socket.IO v5 over WebSocket: the URL names the Socket.IO \
            path with ?EIO=4&transport=websocket) or actioncable.
            """
    )
    var name: Name = .raw

    @Option(
        help: """
            actioncable: the subscription to make after the welcome, its identifier as JSON \
            (e.g. {"channel":"ChatChannel","room":"bench"}); a connection counts as open once it \
            is confirmed. Without it, connections stay unsubscribed.
            """
    )
    var cableIdentifier: String?

    func validate() throws {
        if let identifier = self.cableIdentifier {
            guard self.name == .actioncable else {
                throw ValidationError("--cable-identifier is only for --protocol actioncable")
            }
            guard identifier.hasPrefix("{"), identifier.hasSuffix("}"), identifier.utf8.count <= 1024 else {
                throw ValidationError("--cable-identifier takes a JSON object of at most 1024 bytes")
            }
        }
    }

    /// Checks `url` suits the protocol: Socket.IO's WebSocket transport is chosen in the query.
    func check(url: WebSocketURL) throws {
        guard self.name == .socketio else { return }
        let query = url.target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        let parameters = Set(query.split(separator: "&"))
        guard parameters.contains("EIO=4"), parameters.contains("transport=websocket") else {
            throw ValidationError(
                "--protocol socketio needs EIO=4 and transport=websocket in the URL's query "
                    + "(e.g. ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket)")
        }
    }

    var clientProtocol: ClientProtocol {
        switch self.name {
        case .raw: .raw
        case .socketio: .socketIO
        case .actioncable: .actionCable(subscribe: self.cableIdentifier.map(ClientProtocol.actionCableSubscribe))
        }
    }
}
