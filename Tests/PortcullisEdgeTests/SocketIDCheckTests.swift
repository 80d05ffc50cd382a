import NIOCore
import NIOHTTP1
import PortcullisBus
import PortcullisConfig
import Testing

@testable import PortcullisEdge

/// The socket id header (`auth.socket_id_header`, 3D Repo's `x-socket-id`) reaches a
/// backend only as the edge vouched for it: client copies go on every route, and the
/// registry lookup accepts only a live connection of the request's own subject.
@Suite struct SocketIDCheckTests {
    static func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        HTTPHeaders(pairs)
    }

    @Test func aConnectionIDIsLookedUpAndAnythingElseIsNot() {
        #expect(
            SocketIDCheck.candidate(in: Self.headers([("X-Socket-Id", "edge-1.a3f9k2-1")]), name: "x-socket-id")
                == "edge-1.a3f9k2-1")
        for value in [
            "", "no-dot", ".local", "edge!.x", "edge-1.", "edge-1.a b", String(repeating: "a", count: 201) + ".x",
        ] {
            #expect(SocketIDCheck.candidate(in: Self.headers([("x-socket-id", value)]), name: "x-socket-id") == nil)
        }
        let twice = Self.headers([("x-socket-id", "edge-1.a"), ("x-socket-id", "edge-1.b")])
        #expect(SocketIDCheck.candidate(in: twice, name: "x-socket-id") == nil)
        #expect(SocketIDCheck.candidate(in: Self.headers([]), name: "x-socket-id") == nil)
    }

    @Test func onlyALiveConnectionOfTheSameSubjectIsVouchedFor() {
        let alice = RESPValue.bulkString(ByteBuffer(string: #"{"app":"model-activity","user":"alice","ns":["/"]}"#))
        #expect(SocketIDCheck.vouches(alice, subject: "alice"))
        #expect(!SocketIDCheck.vouches(alice, subject: "bob"))
        // Gone (HGET answers nil), anonymous, or not a presence record.
        #expect(!SocketIDCheck.vouches(.nullBulkString, subject: "alice"))
        #expect(
            !SocketIDCheck.vouches(
                .bulkString(ByteBuffer(string: #"{"app":"model-activity","ns":["/"]}"#)), subject: "alice"))
        #expect(!SocketIDCheck.vouches(.bulkString(ByteBuffer(string: "alice")), subject: "alice"))
    }

    @Test func clientCopiesAreRemovedOnEveryRouteInEverySpelling() throws {
        var vouching = route("api", path: "/api/v5", protected: true)
        vouching.auth?.socketIDHeader = "x-socket-id"
        let snapshot = try EdgeSnapshot(configuration: Configuration(routes: [vouching, route("public")]))
        #expect(snapshot.identityHeaders.contains("x-socket-id"))
        #expect(snapshot.ownedHeaders.contains("x-socket-id"))

        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/",
            headers: Self.headers([("Host", "a.test"), ("X-Socket-Id", "edge-1.x"), ("X_Socket_Id", "edge-1.y")]))
        let forwarding = Forwarding(peer: "10.0.0.9", scheme: "https", trustedProxies: [], headers: head.headers)
        let upstream = HeaderRewriting.upstreamRequest(
            head, target: "/", forwarding: forwarding, requestId: "rid", owned: snapshot.ownedHeaders, tunnel: false)
        #expect(!upstream.headers.contains(name: "x-socket-id"))
        #expect(!upstream.headers.contains(name: "x_socket_id"))
    }
}
