import NIOCore
import Testing

@testable import PortcullisBus

/// ``RESPParser`` on raw RESP bytes, including every way a reply can be split across reads,
/// the stream reply shapes of protocols.md §7.3, and hiredis's reader as the reference.
@Suite struct RESPParserTests {
    /// §7.3: XREAD / XREADGROUP, one stream `bus:events`, one entry `d=hello`.
    static let xreadReply =
        "*1\r\n*2\r\n$10\r\nbus:events\r\n*1\r\n*2\r\n$15\r\n1718000000000-0\r\n*2\r\n$1\r\nd\r\n$5\r\nhello\r\n"
    /// §7.3: a pending entry whose data was deleted, re-read with id 0.
    static let deletedPendingEntry = "*2\r\n$15\r\n1718000000000-0\r\n*-1\r\n"
    /// §7.3: XAUTOCLAIM on Redis 7 (three elements: next, entries, deleted ids).
    static let xautoclaimReply =
        "*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$15\r\n1718000000000-0\r\n*2\r\n$1\r\nd\r\n$5\r\nhello\r\n"
        + "*1\r\n$15\r\n1718000000001-0\r\n"
    /// A bulk string holding NUL, CR LF and a byte that is not UTF-8.
    static let binaryValue: [UInt8] = [0x61, 0x00, 0x0D, 0x0A, 0xFF, 0x0D, 0x0A, 0x62]

    static func binaryReply() -> [UInt8] {
        Array("$8\r\n".utf8) + binaryValue + Array("\r\n".utf8)
    }

    static func entry(_ id: String, _ fields: [(String, String)]) -> StreamEntry {
        StreamEntry(id: StreamID(id)!, fields: fields.map { ($0.0, ByteBuffer(string: $0.1)) })
    }

    static let cases: [(bytes: [UInt8], value: RESPValue)] = [
        (Array("+OK\r\n".utf8), .simpleString("OK")),
        (Array("-ERR unknown command 'FOO'\r\n".utf8), .error("ERR unknown command 'FOO'")),
        (Array(":-42\r\n".utf8), .integer(-42)),
        (Array("$0\r\n\r\n".utf8), .bulkString(ByteBuffer())),
        (Array("$-1\r\n".utf8), .nullBulkString),
        (Array("*-1\r\n".utf8), .nullArray),
        (Array("*0\r\n".utf8), .array([])),
        (binaryReply(), .bulkString(ByteBuffer(bytes: binaryValue))),
        (
            Array(xreadReply.utf8),
            .array([
                .array([
                    .bulkString(ByteBuffer(string: "bus:events")),
                    .array([
                        .array([
                            .bulkString(ByteBuffer(string: "1718000000000-0")),
                            .array([.bulkString(ByteBuffer(string: "d")), .bulkString(ByteBuffer(string: "hello"))]),
                        ])
                    ]),
                ])
            ])
        ),
        (
            Array(deletedPendingEntry.utf8),
            .array([.bulkString(ByteBuffer(string: "1718000000000-0")), .nullArray])
        ),
        (
            Array(xautoclaimReply.utf8),
            .array([
                .bulkString(ByteBuffer(string: "0-0")),
                .array([
                    .array([
                        .bulkString(ByteBuffer(string: "1718000000000-0")),
                        .array([.bulkString(ByteBuffer(string: "d")), .bulkString(ByteBuffer(string: "hello"))]),
                    ])
                ]),
                .array([.bulkString(ByteBuffer(string: "1718000000001-0"))]),
            ])
        ),
        (Array("*2\r\n$-1\r\n*-1\r\n".utf8), .array([.nullBulkString, .nullArray])),
    ]

    @Test(arguments: 0..<cases.count)
    func replySplitAtEveryByteBoundaryDecodesTheSame(caseIndex: Int) throws {
        let (bytes, expected) = Self.cases[caseIndex]
        for split in 0...bytes.count {
            let reader = BufferedParser()
            try bytes[..<split].withUnsafeBytes { try reader.feed($0) }
            if split < bytes.count {
                #expect(try reader.nextReply() == nil, "complete after \(split) of \(bytes.count) bytes")
            }
            try bytes[split...].withUnsafeBytes { try reader.feed($0) }
            #expect(try reader.nextReply() == expected)
            #expect(try reader.nextReply() == nil)
        }
    }

    @Test func replyFedOneByteAtATimeDecodes() throws {
        let reader = BufferedParser()
        var values: [RESPValue] = []
        for (bytes, _) in Self.cases {
            for byte in bytes {
                try [byte].withUnsafeBytes { try reader.feed($0) }
                if let value = try reader.nextReply() {
                    values.append(value)
                }
            }
        }
        #expect(values == Self.cases.map(\.value))
    }

    @Test func manyRepliesInOneReadComeOutInOrder() throws {
        let reader = BufferedParser()
        let all = Self.cases.flatMap(\.bytes)
        try all.withUnsafeBytes { try reader.feed($0) }
        var values: [RESPValue] = []
        while let value = try reader.nextReply() {
            values.append(value)
        }
        #expect(values == Self.cases.map(\.value))
    }

    @Test(arguments: [
        "!nonsense\r\n", ":12a\r\n", ":+5\r\n", ":007\r\n", ":-0\r\n", ":\r\n", ":99999999999999999999\r\n",
        "$-2\r\n", "$3\r\nabcde\r\n", "*-3\r\n", "*1\r\n?\r\n", "$536870913\r\n",
        ":1234567890123456789012345",
    ])
    func malformedReplyIsAProtocolViolation(text: String) throws {
        let reader = BufferedParser()
        try Array(text.utf8).withUnsafeBytes { try reader.feed($0) }
        let error = try #require(throws: RedisError.self) { try reader.nextReply() }
        #expect(error.code == .protocolViolation)
    }

    @Test func nestingBeyondTheLimitIsAProtocolViolation() throws {
        let reader = BufferedParser()
        let deep = String(repeating: "*1\r\n", count: RESPParser.maxDepth + 1) + ":1\r\n"
        try Array(deep.utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(throws: RedisError.self) { try reader.nextReply() }
        let atLimit = BufferedParser()
        try Array((String(repeating: "*1\r\n", count: RESPParser.maxDepth) + ":1\r\n").utf8).withUnsafeBytes {
            try atLimit.feed($0)
        }
        #expect(try atLimit.nextReply() != nil)
    }

    @Test func unterminatedStatusLineIsRefusedPastItsLimit() throws {
        let reader = BufferedParser()
        try Array(("+" + String(repeating: "x", count: RESPParser.maxLineLength)).utf8).withUnsafeBytes {
            try reader.feed($0)
        }
        #expect(try reader.nextReply() == nil)
        try Array("xx".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(throws: RedisError.self) { try reader.nextReply() }
    }

    @Test func bulkStringsOutliveTheReceiveBuffer() throws {
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nabc\r\n$2\r\nde\r\n+OK\r\n")
        var parser = RESPParser()
        let value = try #require(try parser.next(from: &buffer))
        #expect(buffer.readableBytes == 5)
        buffer.clear()
        buffer.writeString("zzzzzzzzzzzzzzzzzzzzzzzzzz")
        #expect(value == .array([.bulkString(ByteBuffer(string: "abc")), .bulkString(ByteBuffer(string: "de"))]))
    }

    @Test func xreadReplyBecomesTypedEntries() throws {
        let value = try Self.decode(Self.xreadReply)
        let streams = try #require(try StreamEntry.streams(value))
        #expect(streams == ["bus:events": [Self.entry("1718000000000-0", [("d", "hello")])]])
    }

    @Test func xreadTimeoutIsNil() throws {
        #expect(try StreamEntry.streams(Self.decode("*-1\r\n")) == nil)
    }

    @Test func deletedPendingEntryHasNilFields() throws {
        let entry = try StreamEntry(reply: Self.decode(Self.deletedPendingEntry))
        #expect(entry.id == StreamID(milliseconds: 1_718_000_000_000, sequence: 0))
        #expect(entry.fields == nil)
        #expect(entry.isDeleted)
    }

    @Test func xautoclaimThreeElementReplyListsDeletedIDs() throws {
        let result = try StreamAutoClaimResult(reply: Self.decode(Self.xautoclaimReply))
        #expect(result.isScanComplete)
        #expect(result.entries == [Self.entry("1718000000000-0", [("d", "hello")])])
        #expect(result.deletedIDs == [StreamID(milliseconds: 1_718_000_000_001)])
    }

    @Test func xautoclaimTwoElementReplyFromRedis62Parses() throws {
        let reply =
            "*2\r\n$15\r\n1718000000005-3\r\n*1\r\n*2\r\n$15\r\n1718000000000-0\r\n*2\r\n$1\r\nd\r\n$5\r\nhello\r\n"
        let result = try StreamAutoClaimResult(reply: Self.decode(reply))
        #expect(result.nextStart == StreamID(milliseconds: 1_718_000_000_005, sequence: 3))
        #expect(!result.isScanComplete)
        #expect(result.entries.count == 1)
        #expect(result.deletedIDs.isEmpty)
    }

    @Test func binaryFieldValueSurvivesIntact() throws {
        let field = Array("*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\ndata\r\n".utf8) + Self.binaryReply()
        let value = try Self.decode(bytes: field)
        let entry = try StreamEntry(reply: value)
        #expect(entry[field: "data"] == ByteBuffer(bytes: Self.binaryValue))
    }

    @Test func unexpectedShapeIsATypedError() throws {
        let error = try #require(throws: RedisError.self) { try StreamEntry(reply: .integer(3)) }
        #expect(error.code == .unexpectedReply)
    }

    static func decode(_ text: String) throws -> RESPValue {
        try Self.decode(bytes: Array(text.utf8))
    }

    static func decode(bytes: [UInt8]) throws -> RESPValue {
        let reader = BufferedParser()
        try bytes.withUnsafeBytes { try reader.feed($0) }
        return try #require(try reader.nextReply())
    }
}

/// A ``RESPParser`` with its own buffer, fed like a socket's reads.
final class BufferedParser {
    private var buffer = ByteBuffer()
    private var parser = RESPParser()

    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        self.buffer.writeBytes(bytes)
    }

    func nextReply() throws -> RESPValue? {
        try self.parser.next(from: &self.buffer)
    }
}
