import NIOCore
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// The envelope contract: what XADD stores, what a consumer decodes, and what it refuses.
struct EnvelopeTests {
    /// The field list as Redis hands it back: names and raw bytes, in XADD order.
    static func wire(_ envelope: Envelope) -> [(name: String, value: ByteBuffer)] {
        envelope.fields.map { (name: $0.0, value: Self.bytes($0.1)) }
    }

    static func bytes(_ argument: RedisArgument) -> ByteBuffer {
        var buffer = ByteBuffer()
        argument.write(to: &buffer)
        return buffer
    }

    static func fields(_ pairs: KeyValuePairs<String, String>) -> [(name: String, value: ByteBuffer)] {
        pairs.map { (name: $0.key, value: ByteBuffer(string: $0.value)) }
    }

    static func decodeError(_ pairs: KeyValuePairs<String, String>) -> EnvelopeError? {
        do {
            _ = try Envelope(fields: Self.fields(pairs))
            return nil
        } catch {
            return error
        }
    }

    /// One realistic envelope per known kind.
    static let samples: [Envelope] = [
        Envelope(
            id: "edge-1.7f", kind: .open, app: "shared", edge: "edge-1", connection: "edge-1.42", user: "42",
            namespace: "/chat", claims: #"{"sub":"42","scope":"chat"}"#, timestamp: 1_732_240_000_000
        ),
        Envelope(
            id: Envelope.randomID(), kind: .message, app: "shared", edge: "edge-1", connection: "edge-1.42",
            user: "42", namespace: "/chat", event: "say", ack: 3, data: .json(#"["hi",{"n":1}]"#),
            timestamp: 1_732_240_000_001
        ),
        Envelope(
            id: "c1", kind: .close, app: "shared", edge: "edge-1", connection: "edge-1.42", namespace: "/chat",
            reason: "transport close"
        ),
        Envelope(id: "r1", kind: .refresh, app: "shared", connection: "edge-1.42", user: "42", claims: "{}"),
        Envelope(
            id: "a1", kind: .ack, app: "shared", connection: "edge-1.42", target: .connection("edge-1.42"),
            ack: 0, data: .json("[true]")
        ),
        Envelope(
            id: "e1", kind: .emit, app: "community", namespace: "/", target: .room("lobby"), except: "edge-2.9",
            event: "joined", data: .json(#"{"user":"42"}"#)
        ),
        Envelope(id: "j1", kind: .join, target: .user("42"), room: "lobby"),
        Envelope(id: "l1", kind: .leave, target: .connection("edge-1.42"), room: "lobby"),
        Envelope(id: "d1", kind: .disconnect, target: .all, reason: "maintenance"),
        Envelope(id: "d2", kind: .disconnect, target: .token("jti-1"), reason: "token_revoked"),
        Envelope(id: "c1", kind: .confirm, namespace: #"{"channel":"Chat"}"#, target: .connection("edge-1.42")),
        Envelope(
            id: "x1", kind: .reject, namespace: #"{"channel":"Chat"}"#, target: .connection("edge-1.42"),
            reason: "no room"),
    ]

    @Test func envelopeIDsAreHexAndNeverRepeat() {
        let ids = (0..<20_000).map { _ in Envelope.randomID() }
        #expect(Set(ids).count == ids.count)
        let hexDigits = Set("0123456789abcdef".utf8)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy(hexDigits.contains) })
        // Consecutive ids differ in more than their last digits: the counter is scrambled.
        #expect(ids[0].suffix(16).prefix(8) != ids[1].suffix(16).prefix(8))
    }

    @Test func everyKnownKindSurvivesARoundTrip() throws {
        #expect(Set(Self.samples.map(\.kind)) == Set(Envelope.Kind.allKnown))
        for sample in Self.samples {
            let decoded = try Envelope(fields: Self.wire(sample))
            #expect(decoded == sample)
            #expect(decoded.kind.isKnown)
        }
    }

    @Test func binaryDataPassesUntouched() throws {
        let payload = ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF, 0xFE, 0x00, 0x24, 0x2A, 0x0D, 0x0A])
        let envelope = Envelope(
            id: "b1", kind: .message, connection: "edge-1.1", event: "upload", data: .binary(payload)
        )
        let wire = Self.wire(envelope)
        #expect(wire.first { $0.name == "data" }?.value == payload)
        #expect(wire.first { $0.name == "dataType" }.map { String(buffer: $0.value) } == "binary")
        let decoded = try Envelope(fields: wire)
        #expect(decoded.data?.bytes == payload)
        #expect(decoded.data?.type == .binary)
    }

    @Test func textDataIsMarkedAndJSONIsTheDefault() throws {
        let text = Envelope(id: "t", kind: .message, data: .text("plain \r\n text"))
        #expect(Self.wire(text).map(\.name) == ["v", "id", "kind", "dataType", "data"])
        #expect(try Envelope(fields: Self.wire(text)) == text)

        let json = try Envelope(fields: Self.fields(["v": "1", "id": "j", "kind": "emit", "data": "{}"]))
        #expect(json.data == .json("{}"))
        #expect(Self.wire(json).map(\.name) == ["v", "id", "kind", "data"], "json is not spelled out")
    }

    @Test func unknownKindDecodesAndCanBeSkipped() throws {
        let envelope = try Envelope(
            fields: Self.fields(["v": "1", "id": "x", "kind": "teleport", "future": "field", "data": "{}"])
        )
        #expect(envelope.kind == Envelope.Kind(rawValue: "teleport"))
        #expect(!envelope.kind.isKnown)
        #expect(envelope.data == .json("{}"))
    }

    @Test func fieldsAreWrittenInTheDocumentedOrderAndOnlyWhenPresent() throws {
        var everything = Envelope(
            id: "i", kind: .emit, app: "a", edge: "e", connection: "e.1", user: "u", namespace: "/",
            target: .user("u"), except: "e.2", room: "r", event: "ev", ack: 1, reason: "why", claims: "{}",
            data: .binary(ByteBuffer(bytes: [1])), timestamp: 5
        )
        everything.arguments = true
        everything.attachments = [ByteBuffer(bytes: [2]), ByteBuffer(bytes: [3])]
        let order = Envelope.fieldOrder.flatMap { $0 == "att:<i>" ? ["att:0", "att:1"] : [$0] }
        #expect(Self.wire(everything).map(\.name) == order)

        // Whatever order a publisher used, a re-encoded envelope comes out in the same order.
        let shuffled = try Envelope(fields: Array(Self.wire(everything).reversed()))
        #expect(Self.wire(shuffled).map(\.name) == order)
        #expect(shuffled == everything)

        let minimal = Envelope(id: "i", kind: .disconnect, target: .all)
        #expect(Self.wire(minimal).map(\.name) == ["v", "id", "kind", "to"])
        #expect(Self.wire(minimal).map { String(buffer: $0.value) } == ["1", "i", "disconnect", "all"])
    }

    @Test func missingRequiredFieldsNameTheField() {
        #expect(Self.decodeError(["id": "1", "kind": "open"]) == .missing("v"))
        #expect(Self.decodeError(["v": "1", "kind": "open"]) == .missing("id"))
        #expect(Self.decodeError(["v": "1", "id": "1"]) == .missing("kind"))
        #expect(Self.decodeError(["v": "1", "id": "1", "kind": "emit", "to": "user"]) == .missing("target"))
        #expect(Self.decodeError(["v": "1", "id": "1", "kind": "emit", "target": "42"]) == .missing("to"))
    }

    @Test func otherVersionsAreRefused() {
        for version in ["2", "0", "", "1.0", "v1", "99999999999999999999999"] {
            let error = Self.decodeError(["v": version, "id": "1", "kind": "open"])
            #expect(error?.code == .unsupportedVersion, "v=\(version)")
            #expect(error?.field == "v")
        }
        #expect(Self.decodeError(["v": "1", "id": "1", "kind": "open"]) == nil)
    }

    @Test func malformedValuesAreTypedErrorsNamingTheField() {
        let cases: [(KeyValuePairs<String, String>, String)] = [
            (["v": "1", "id": "1", "kind": "message", "ack": "-1"], "ack"),
            (["v": "1", "id": "1", "kind": "message", "ack": "1x"], "ack"),
            (["v": "1", "id": "1", "kind": "message", "ts": "99999999999999999999"], "ts"),
            (["v": "1", "id": "1", "kind": "message", "ts": " 12"], "ts"),
            (["v": "1", "id": "1", "kind": "emit", "to": "everyone"], "to"),
            (["v": "1", "id": "1", "kind": "emit", "dataType": "xml", "data": "<a/>"], "dataType"),
            (["v": "1", "id": "", "kind": "open"], "id"),
            (["v": "1", "id": String(repeating: "x", count: 129), "kind": "open"], "id"),
            (["v": "1", "id": "1", "kind": ""], "kind"),
        ]
        for (fields, name) in cases {
            let error = Self.decodeError(fields)
            #expect(error?.code == .invalidValue, "\(name)")
            #expect(error?.field == name)
        }
    }

    @Test func duplicateFieldsAreRefused() {
        let error = Self.decodeError(["v": "1", "id": "1", "kind": "emit", "to": "all", "to": "user"])
        #expect(error?.code == .duplicateField)
        #expect(error?.field == "to")
    }

    @Test func deletedPendingEntryIsATypedError() {
        let entry = StreamEntry(id: StreamID(milliseconds: 5, sequence: 1), fields: nil)
        #expect(throws: EnvelopeError.self) { try Envelope(entry: entry) }
        do {
            _ = try Envelope(entry: entry)
        } catch {
            #expect(error.code == .deletedEntry)
            #expect(error.field == nil)
        }
    }

    @Test func randomIDsAre128BitHex() {
        let ids = (0..<100).map { _ in Envelope.randomID() }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func streamNamesFollowTheContract() throws {
        let names = StreamNames.standard
        #expect(try names.inbound(app: "shared") == "portcullis:in:shared")
        #expect(try names.edgeOutbound(edge: "edge-1") == "portcullis:out:edge:edge-1")
        #expect(try names.edgeOutbound(connection: "edge-1.9f3a") == "portcullis:out:edge:edge-1")
        #expect(names.broadcast == "portcullis:out:bcast")
        #expect(try names.deadLetter(app: "shared") == "portcullis:dead:shared")
        #expect(try names.edgeAlive(edge: "edge-1") == "portcullis:edge:edge-1:alive")
        #expect(try names.edgeConnections(edge: "edge-1") == "portcullis:edge:edge-1:conns")
        #expect(try StreamNames.consumerGroup(app: "shared") == "portcullis-rooms:shared")
        #expect(try StreamNames(prefix: "staging:pc").broadcast == "staging:pc:out:bcast")
    }

    @Test func attachmentsMustBeNumberedWithoutGapsAndArgsMustBeOne() {
        let base: KeyValuePairs<String, String> = ["v": "1", "id": "a", "kind": "emit"]
        func error(_ extra: [(String, String)]) -> EnvelopeError? {
            do {
                _ = try Envelope(
                    fields: Self.fields(base) + extra.map { (name: $0.0, value: ByteBuffer(string: $0.1)) })
                return nil
            } catch {
                return error
            }
        }
        #expect(error([("att:1", "x")])?.field == "att:0")
        #expect(error([("att:0", "x"), ("att:0", "y")])?.code == .duplicateField)
        #expect(error([("att:10", "x")])?.code == .invalidValue)
        #expect(error([("att:a", "x")])?.code == .invalidValue)
        #expect(error([("args", "true")])?.field == "args")
        #expect(error([("att:1", "y"), ("att:0", "x"), ("args", "1")]) == nil)
    }

    @Test func streamNamesRejectAmbiguousParts() {
        #expect(throws: StreamNames.InvalidName.self) { try StreamNames(prefix: "") }
        #expect(throws: StreamNames.InvalidName.self) { try StreamNames(prefix: "a b") }
        #expect(throws: StreamNames.InvalidName.self) { try StreamNames.standard.inbound(app: "a:b") }
        #expect(throws: StreamNames.InvalidName.self) { try StreamNames.standard.inbound(app: "") }
        #expect(throws: StreamNames.InvalidName.self) {
            try StreamNames.standard.edgeOutbound(edge: String(repeating: "e", count: 33))
        }
        #expect(throws: StreamNames.InvalidName.self) { try StreamNames.standard.edgeOutbound(connection: "edge-1") }
        #expect(StreamNames.edgeID(ofConnection: "edge-1.") == nil)
        #expect(StreamNames.edgeID(ofConnection: ".42") == nil)
        #expect(StreamNames.edgeID(ofConnection: "e:1.42") == nil)
        #expect(StreamNames.edgeID(ofConnection: "e_1.4.2") == "e_1")
    }
}

extension EnvelopeTests {
    /// The same contract through a real redis-server: what one side XADDs the other XREADs.
    @Suite(.redisServer()) struct WithRedis {
        @Test func envelopeWrittenWithXADDIsReadBackWithXREAD() async throws {
            let client = try RedisClient(url: try sharedServerURL(), logger: testLogger)
            defer { client.close() }
            let stream = try StreamNames(prefix: uniqueKey()).inbound(app: "shared")
            let sent = Envelope(
                id: Envelope.randomID(), kind: .message, app: "shared", edge: "edge-1", connection: "edge-1.42",
                user: "42", namespace: "/chat", event: "upload", ack: 7, claims: #"{"sub":"42"}"#,
                data: .binary(ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF, 0x24, 0x00])), timestamp: 1_732_240_000_000
            )

            let id = try await client.xadd(stream, trim: StreamNames.inboundTrim, envelope: sent)
            let read = try #require(try await client.xread(streams: [(stream, .start)], count: 10))
            let entry = try #require(read[stream]?.first)
            #expect(entry.id == id)
            let absent: Set = ["to", "target", "except", "room", "reason", "args", "att:<i>"]
            #expect(entry.fields?.map(\.name) == Envelope.fieldOrder.filter { !absent.contains($0) })
            #expect(try Envelope(entry: entry) == sent)
        }

        @Test func theRedisCLIExampleInTheDocsDecodes() async throws {
            let client = try RedisClient(url: try sharedServerURL(), logger: testLogger)
            defer { client.close() }
            let stream = try StreamNames(prefix: uniqueKey()).broadcast
            // docs/bus.md: redis-cli XADD portcullis:out:bcast MAXLEN '~' 100000 '*' v 1 id …
            _ = try await client.send([
                "XADD", RedisArgument(stream), "MAXLEN", "~", "100000", "*", "v", "1", "id", "notif-1", "kind",
                "emit", "app", "shared", "to", "user", "target", "42", "event", "newNotification", "data",
                #"{"id":1}"#, "ts", "1732240000000",
            ])
            let entry = try #require(try await client.xrange(stream).first)
            let envelope = try Envelope(entry: entry)
            #expect(
                envelope
                    == Envelope(
                        id: "notif-1", kind: .emit, app: "shared", target: .user("42"), event: "newNotification",
                        data: .json(#"{"id":1}"#), timestamp: 1_732_240_000_000
                    )
            )
        }
    }
}
