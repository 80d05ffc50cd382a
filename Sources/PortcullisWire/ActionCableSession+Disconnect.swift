extension ActionCableSession {
    /// The `disconnect` frame sent before the edge closes for `cause`; nil when the
    /// connection is already gone (the client closed, or the transport failed). `reconnect`
    /// tells the JS client whether to come back (it retries with back-off when true, stops
    /// for good when false):
    ///
    /// | cause | `reason` | `reconnect` |
    /// |---|---|---|
    /// | ``SocketCloseCause/expired`` | `token_expired` | true |
    /// | ``SocketCloseCause/revoked`` | `token_revoked` | false |
    /// | ``SocketCloseCause/sessionEnded`` | `session_ended` | false |
    /// | ``SocketCloseCause/shutdown`` (drain) | `server_restart` | true |
    /// | ``SocketCloseCause/disconnected(reason:)``, reason `unauthorized` | `unauthorized` | false |
    /// | ``SocketCloseCause/disconnected(reason:)``, any other reason | `remote` | true |
    /// | rate limit, bus unavailable, slow consumer, protocol error, ping timeout | its label | true |
    ///
    /// Each is written as Rails writes it: `{"type":"disconnect","reason":"token_expired","reconnect":true}`.
    ///
    /// Expiry lets the client reconnect, with the fresh token its page fetches; revocation,
    /// an ended login session and `unauthorized` (Rails' `reject_unauthorized_connection`)
    /// would only be refused again. A handler's disconnect is Rails' `remote`
    /// (`remote_connections…disconnect`, `reconnect` true by default); its own reason goes
    /// to the `close` envelope and the log, not to the client.
    static func disconnectFrame(for cause: SocketCloseCause) -> ActionCableServerMessage? {
        typealias Reason = ActionCableServerMessage.DisconnectReason
        guard cause.ending != .none else { return nil }
        switch cause {
        case .expired:
            return .disconnect(reason: "token_expired", reconnect: true)
        case .revoked:
            return .disconnect(reason: "token_revoked", reconnect: false)
        case .sessionEnded:
            return .disconnect(reason: "session_ended", reconnect: false)
        case .shutdown:
            return .disconnect(reason: Reason.serverRestart, reconnect: true)
        case _ where cause == .disconnected(reason: Reason.unauthorized):
            return .disconnect(reason: Reason.unauthorized, reconnect: false)
        case _ where cause.label == "disconnect":
            return .disconnect(reason: Reason.remote, reconnect: true)
        default:
            return .disconnect(reason: cause.label, reconnect: true)
        }
    }
}
