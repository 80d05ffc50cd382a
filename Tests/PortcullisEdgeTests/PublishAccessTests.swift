import NIOCore
import PortcullisAuth
import Testing

@testable import PortcullisEdge

/// Who may publish: the key, and the rule that keeps it off plain-text networks.
@Suite struct PublishAccessTests {
    private static let secret = "0123456789abcdef0123456789abcdef"
    private let key = BearerKey(Self.secret)

    private func check(_ authorization: [String], tls: Bool = false, peer: String = "127.0.0.1") throws -> PublishError?
    {
        PublishAccess.check(
            authorization: authorization, key: key, overTLS: tls, peer: try SocketAddress(ipAddress: peer, port: 40_000)
        )
    }

    @Test func loopbackMayPublishOverPlainHTTPWithTheKey() throws {
        #expect(try check(["Bearer \(Self.secret)"]) == nil)
        #expect(try check(["bearer \(Self.secret)"], peer: "::1") == nil)
        #expect(try check(["Bearer \(Self.secret)"], peer: "127.0.3.4") == nil)
    }

    @Test func aRemotePeerOverPlainHTTPIsRefusedEvenWithTheKey() throws {
        let refused = try check(["Bearer \(Self.secret)"], peer: "10.1.2.3")
        #expect(refused?.code == .forbidden)
        #expect(refused?.code.status == .forbidden)
        #expect(refused?.message.contains("admin.tls") == true)
        #expect(try check([], peer: "192.168.1.9")?.code == .forbidden)
    }

    @Test func aRemotePeerOverTLSNeedsTheKey() throws {
        #expect(try check(["Bearer \(Self.secret)"], tls: true, peer: "10.1.2.3") == nil)
        #expect(try check(["Bearer nope"], tls: true, peer: "10.1.2.3")?.code == .unauthorized)
    }

    @Test func aMissingWrongOrAmbiguousKeyIsUnauthorized() throws {
        #expect(try check([]) == PublishError(.unauthorized, "missing Authorization: Bearer <key>"))
        for headers in [
            ["Bearer \(Self.secret)x"], ["Bearer \(Self.secret.dropLast())"], ["Basic \(Self.secret)"],
            ["Bearer  \(Self.secret)"], ["Bearer \(Self.secret)", "Bearer \(Self.secret)"], [Self.secret],
        ] {
            #expect(try check(headers) == PublishError(.unauthorized, "invalid bearer key"), "\(headers)")
        }
        #expect(PublishAccess.challenge(authorization: []) == "Bearer")
        #expect(PublishAccess.challenge(authorization: ["Bearer x"]) == #"Bearer error="invalid_token""#)
    }

    @Test func loopbackIsIPv4AndIPv6LoopbackOnly() throws {
        for address in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
            #expect(PublishAccess.isLoopback(try SocketAddress(ipAddress: address, port: 1)), "\(address)")
        }
        for address in ["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "0.0.0.0"] {
            #expect(!PublishAccess.isLoopback(try SocketAddress(ipAddress: address, port: 1)), "\(address)")
        }
        #expect(!PublishAccess.isLoopback(nil))
    }
}
