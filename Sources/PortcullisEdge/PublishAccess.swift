import NIOCore
import PortcullisAuth
import PortcullisConfig

/// Who may publish, decided from what the admin handler saw of a request, with no IO.
///
/// The bearer key travels in every request, so it must never cross a network in the
/// clear: over plain HTTP only a peer on loopback may publish, anyone else must use the
/// admin listener's TLS (`admin.tls`). That is checked before the key, so a remote client
/// on plain HTTP is told to switch to TLS (403) rather than that its key is wrong. Then
/// exactly one `Authorization: Bearer <key>` must carry the key (401 otherwise, with
/// `WWW-Authenticate: Bearer`).
enum PublishAccess {
    private static let loopback = [CIDRBlock("127.0.0.0/8")!, CIDRBlock("::1")!]

    /// nil when the request may publish, else why not.
    static func check(authorization: [String], key: BearerKey, overTLS: Bool, peer: SocketAddress?) -> PublishError? {
        if !overTLS && !isLoopback(peer) {
            return PublishError(
                .forbidden,
                "publishing over plain HTTP is only allowed from loopback; use the admin listener's TLS (admin.tls)")
        }
        guard let header = authorization.first else {
            return PublishError(.unauthorized, "missing Authorization: Bearer <key>")
        }
        guard authorization.count == 1, let token = TokenExtraction.bearer(authorization: header),
            key.matches(token)
        else {
            return PublishError(.unauthorized, "invalid bearer key")
        }
        return nil
    }

    /// Whether `peer` is a loopback address (`127.0.0.0/8`, `::1`, or IPv4 loopback
    /// mapped into IPv6).
    static func isLoopback(_ peer: SocketAddress?) -> Bool {
        guard let address = peer?.ipAddress else { return false }
        return loopback.contains { $0.contains(address) }
    }

    /// The `WWW-Authenticate` challenge of a 401: bare when no key was sent (RFC 6750
    /// §3.1), `invalid_token` when the one sent is wrong.
    static func challenge(authorization: [String]) -> String {
        authorization.isEmpty ? "Bearer" : #"Bearer error="invalid_token""#
    }
}
