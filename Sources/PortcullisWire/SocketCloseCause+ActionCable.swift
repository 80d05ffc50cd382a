// `SocketCloseCause`'s memberwise init is private to its file, so these causes are spelled
// with the public `disconnected(reason:)`: close 4000, metric label `disconnect`. The
// protocols tell them apart by value (ActionCable: `ActionCableSession.disconnectFrame(for:)`).
extension SocketCloseCause {
    /// The token or the subject behind the connection was revoked. The same value as the
    /// `disconnect` envelope `portcullis revoke` publishes (reason `revoked`) turns into, so
    /// revocations pushed over the bus are recognised too.
    public static let revoked = SocketCloseCause.disconnected(reason: "revoked")

    /// The login session behind the connection ended (logout, or the session is gone from
    /// its store): a reconnect would only be refused.
    public static let sessionEnded = SocketCloseCause.disconnected(reason: "session_ended")
}
