import NIOCore
import PortcullisConfig
import Testing

@testable import PortcullisBus

/// The pure parts of the cluster client: key slots, which arguments are keys, redirects,
/// the slot map, and the cluster's key names.
struct RedisClusterRoutingTests {
    @Test func keySlotsMatchRedisOwnKeyslot() {
        // CLUSTER KEYSLOT answers for these on any Redis.
        #expect(RedisKeySlot.slot(of: "123456789") == 12739)
        #expect(RedisKeySlot.slot(of: "foo") == 12182)
        #expect(RedisKeySlot.slot(of: "") == 0)
    }

    @Test func aHashTagPutsKeysInOneSlot() {
        #expect(RedisKeySlot.slot(of: "{user1000}.following") == RedisKeySlot.slot(of: "{user1000}.followers"))
        #expect(RedisKeySlot.slot(of: "{user1000}.following") == RedisKeySlot.slot(of: "user1000"))
        // Only the first {…} counts, and an empty one hashes the whole key.
        #expect(RedisKeySlot.slot(of: "foo{bar}{zap}") == RedisKeySlot.slot(of: "bar"))
        #expect(RedisKeySlot.slot(of: "foo{}{bar}") == RedisKeySlot.slot(of: Array("foo{}{bar}".utf8)))
        #expect(RedisKeySlot.slot(of: "foo{}{bar}") != RedisKeySlot.slot(of: "bar"))
        #expect(RedisKeySlot.slot(of: "foo{{bar}}zap") == RedisKeySlot.slot(of: "{bar"))
        #expect(RedisKeySlot.slot(of: "foo{bar") == RedisKeySlot.slot(of: Array("foo{bar".utf8)))
    }

    @Test func commandsAreRoutedByTheirKeys() {
        func keys(_ command: [RedisArgument]) -> [String] {
            RedisCommandKeys.keys(of: command).map(\.description)
        }
        #expect(keys(["GET", "a"]) == ["a"])
        #expect(keys(["XADD", "s", "*", "f", "v"]) == ["s"])
        #expect(keys(["PING"]) == [])
        #expect(keys(["CLUSTER", "SLOTS"]) == [])
        #expect(keys(["DEL", "a", "b"]) == ["a", "b"])
        #expect(keys(["EVAL", "return 1", "2", "k1", "k2", "arg"]) == ["k1", "k2"])
        #expect(keys(["EVAL", "return 1", "0", "arg"]) == [])
        #expect(keys(["XREAD", "COUNT", "10", "BLOCK", "1000", "STREAMS", "s1", "s2", "0", "$"]) == ["s1", "s2"])
        #expect(keys(["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]) == ["s"])
        #expect(keys(["XINFO", "GROUPS", "s"]) == ["s"])
        #expect(keys(["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]) == ["s"])
        #expect(keys(["del", "a", "b"]) == ["a", "b"])
        #expect(keys(["xread", "block", "0", "streams", "s", "$"]) == ["s"])
        #expect(RedisCommandKeys.slot(of: ["PING"]) == nil)
        #expect(RedisCommandKeys.slot(of: ["DEL", "{a}x", "{a}y"]) == RedisKeySlot.slot(of: "a"))
        // Stored as text, bytes or a buffer: the same slot.
        #expect(RedisArgument(Array("{a}x".utf8)).keySlot == RedisArgument("{a}x").keySlot)
        #expect(RedisArgument(ByteBuffer(string: "123456789")).keySlot == 12739)
    }

    @Test func movedAndAskRepliesNameTheSlotAndTheNode() throws {
        let node = RedisConfiguration.Endpoint.tcp(host: "10.0.0.9", port: 7000)
        let moved = try #require(RedisClusterRedirect(RedisError(serverReply: "MOVED 3999 127.0.0.1:6381"), from: node))
        #expect(moved == RedisClusterRedirect(kind: .moved, slot: 3999, endpoint: .tcp(host: "127.0.0.1", port: 6381)))
        let ask = try #require(RedisClusterRedirect(RedisError(serverReply: "ASK 12739 [::1]:7002"), from: node))
        #expect(ask == RedisClusterRedirect(kind: .ask, slot: 12739, endpoint: .tcp(host: "::1", port: 7002)))
        // A node that does not know its address leaves the host empty: the one asked.
        let bare = try #require(RedisClusterRedirect(RedisError(serverReply: "MOVED 1 :7001"), from: node))
        #expect(bare.endpoint == .tcp(host: "10.0.0.9", port: 7001))
        #expect(RedisClusterRedirect(RedisError(serverReply: "ERR MOVED 1 a:1"), from: node) == nil)
        #expect(RedisClusterRedirect(RedisError(serverReply: "MOVED 16384 a:1"), from: node) == nil)
        #expect(RedisClusterRedirect(RedisError(code: .connectionClosed, message: "MOVED 1 a:1"), from: node) == nil)
    }

    @Test func theSlotMapComesFromClusterSlotsAndFollowsMoved() throws {
        let node = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7000)
        func master(_ host: String, _ port: Int) -> RESPValue {
            .array([.bulkString(.init(string: host)), .integer(port), .bulkString(.init(string: "id"))])
        }
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), master("127.0.0.1", 7000), master("127.0.0.1", 7003)]),
            .array([.integer(5461), .integer(10922), master("", 7001)]),
            .array([.integer(10923), .integer(16383), master("127.0.0.1", 7002)]),
        ])
        var map = try RedisSlotMap(clusterSlots: reply, from: node)
        #expect(map.coversEverySlot)
        #expect(map.masters.count == 3)
        #expect(map.master(for: 0) == .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.master(for: 5461) == .tcp(host: "127.0.0.1", port: 7001))
        #expect(map.master(for: 16383) == .tcp(host: "127.0.0.1", port: 7002))
        map.assign(12739...12739, to: .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.master(for: 12739) == .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.master(for: 12738) == .tcp(host: "127.0.0.1", port: 7002))

        let partial = try RedisSlotMap(clusterSlots: .array([reply.array![0]]), from: node)
        #expect(!partial.coversEverySlot)
        #expect(partial.master(for: 9000) == nil)
    }

    @Test func inClusterModeEachAppsAndEachEdgesKeysShareASlot() throws {
        let names = try StreamNames(prefix: "portcullis", hashTags: true)
        #expect(try names.inbound(app: "echo") == "portcullis:in:{echo}")
        #expect(try names.deadLetter(app: "echo") == "portcullis:dead:{echo}")
        #expect(names.appKeyPrefix(app: "echo") == "portcullis:app:{echo}:")
        #expect(names.seen(app: "echo", envelopeID: "m1") == "portcullis:seen:{echo}:m1")
        #expect(try names.edgeOutbound(edge: "e1") == "portcullis:out:edge:{e1}")
        #expect(try names.edgeOutbound(connection: "e1.abc") == "portcullis:out:edge:{e1}")
        #expect(try names.edgeAlive(edge: "e1") == "portcullis:edge:{e1}:alive")
        #expect(try names.edgeConnections(edge: "e1") == "portcullis:edge:{e1}:conns")
        #expect(names.broadcast == "portcullis:out:bcast")
        let app = [
            try names.inbound(app: "echo"), try names.deadLetter(app: "echo"), names.appKeyPrefix(app: "echo") + "x",
            names.seen(app: "echo", envelopeID: "m1"),
        ]
        #expect(Set(app.map { RedisKeySlot.slot(of: $0) }).count == 1)
        let edge = [
            try names.edgeOutbound(edge: "e1"), try names.edgeAlive(edge: "e1"), try names.edgeConnections(edge: "e1"),
        ]
        #expect(Set(edge.map { RedisKeySlot.slot(of: $0) }).count == 1)
        #expect(RedisKeySlot.slot(of: try names.inbound(app: "echo")) != RedisKeySlot.slot(of: names.broadcast))
    }

    @Test func withoutAClusterNamesStayAsTheyWere() throws {
        let names = try StreamNames(
            prefix: "portcullis",
            redis: RedisSettings(url: "redis://r/0", location: .init(file: "f", line: 1, keyPath: "redis.url")))
        #expect(!names.usesHashTags)
        #expect(try names.inbound(app: "echo") == "portcullis:in:echo")
        #expect(try names.edgeAlive(edge: "e1") == "portcullis:edge:e1:alive")
        #expect(names.appKeyPrefix(app: "echo") == "portcullis:app:echo:")
        #expect(names.seen(app: "echo", envelopeID: "m1") == "portcullis:seen:echo:m1")
    }

    @Test func redirectsAreFollowedAtOnceAndOnlySoOften() {
        let node = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7000)
        let other = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7001)
        var retry = RedisClusterRetry()
        let now = NIODeadline.now()
        #expect(
            retry.failed(RedisError(serverReply: "MOVED 5 127.0.0.1:7001"), on: node, now: now)
                == .moved(slot: 5, to: other))
        #expect(retry.failed(RedisError(serverReply: "ASK 5 127.0.0.1:7001"), on: node, now: now) == .ask(other))
        #expect(
            retry.failed(RedisError(serverReply: "UNBLOCKED the stream key no longer exists"), on: node, now: now)
                == .resend)
        for _ in 3..<RedisClusterRetry.maximumRedirects {
            _ = retry.failed(RedisError(serverReply: "ASK 5 127.0.0.1:7001"), on: node, now: now)
        }
        #expect(
            retry.failed(RedisError(serverReply: "MOVED 5 127.0.0.1:7001"), on: node, now: now)
                == .fail(refreshingMap: false))
    }

    @Test func refusalsWhileTheClusterSettlesAreRetriedForTenSeconds() {
        let node = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7000)
        var retry = RedisClusterRetry()
        let start = NIODeadline.now()
        let down = RedisError(serverReply: "CLUSTERDOWN The cluster is down")
        #expect(retry.failed(down, on: node, now: start) == .resendAfter(.milliseconds(20), refreshingMap: true))
        #expect(
            retry.failed(
                RedisError(serverReply: "TRYAGAIN Multiple keys request during rehashing of slot"), on: node,
                now: start + .seconds(1)) == .resendAfter(.milliseconds(40), refreshingMap: false))
        #expect(retry.noMaster(now: start + .seconds(2)) == .resendAfter(.milliseconds(80), refreshingMap: false))
        for _ in 0..<10 { _ = retry.noMaster(now: start + .seconds(3)) }
        #expect(retry.noMaster(now: start + .seconds(4)) == .resendAfter(.seconds(1), refreshingMap: false))
        #expect(retry.failed(down, on: node, now: start + .seconds(10)) == .fail(refreshingMap: true))
    }

    @Test func otherFailuresGoToTheCallerExceptAClosedNodeClientsNeverSentOnes() {
        let node = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7000)
        var retry = RedisClusterRetry()
        let now = NIODeadline.now()
        #expect(
            retry.failed(RedisError(serverReply: "WRONGTYPE no"), on: node, now: now) == .fail(refreshingMap: false))
        #expect(retry.failed(RedisError.connectionClosed(), on: node, now: now) == .fail(refreshingMap: true))
        #expect(
            retry.failed(RedisError(code: .clientClosed, message: "closed", isRetrySafe: true), on: node, now: now)
                == .resend)
    }
}
