import NIOCore
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// ``RESPParser`` against hiredis's reader (``HiredisReader``) on the same bytes: random
/// reply trees arriving in random pieces must decode identically, and on mutated bytes the
/// parser may refuse more than hiredis (it is stricter about lengths and CRLFs) but never
/// returns a value hiredis reads differently.
@Suite struct RESPParserDifferentialTests {
    @Test(arguments: 0..<8)
    func randomRepliesInRandomPiecesDecodeAsHiredisDoes(seed: UInt64) throws {
        var random = SplitMix(seed: 0x5245_5350 &+ seed)
        for _ in 0..<200 {
            let values = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                Self.randomValue(depth: 0, using: &random)
            }
            let bytes = values.flatMap(Self.encode)
            let parser = BufferedParser()
            let reference = HiredisReader()
            var parsed: [RESPValue] = []
            var referenced: [RESPValue] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...max(1, bytes.count / 2), using: &random))
                try bytes[start..<end].withUnsafeBytes { piece in
                    try parser.feed(piece)
                    try reference.feed(piece)
                }
                while let value = try parser.nextReply() { parsed.append(value) }
                while let value = try reference.nextReply() { referenced.append(value) }
                start = end
            }
            #expect(referenced == values)
            #expect(parsed == values, "bytes: \(String(reflecting: String(decoding: bytes, as: UTF8.self)))")
        }
    }

    @Test(arguments: 0..<8)
    func mutatedRepliesNeverDecodeOtherwiseThanHiredis(seed: UInt64) throws {
        var random = SplitMix(seed: 0x4D55_5441 &+ seed)
        for _ in 0..<400 {
            var bytes = Self.encode(Self.randomValue(depth: 0, using: &random))
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                Self.mutate(&bytes, using: &random)
            }
            let parsed = Self.drain(bytes, into: BufferedParser())
            let referenced = Self.drain(bytes, into: HiredisReader())
            let text = String(reflecting: String(decoding: bytes, as: UTF8.self))
            #expect(parsed.count <= referenced.count, "accepted more than hiredis: \(text)")
            for (ours, theirs) in zip(parsed, referenced) {
                #expect(ours == theirs, "\(text)")
            }
        }
    }

    /// Every value a reader returns for `bytes` fed at once, up to its first error.
    private static func drain(_ bytes: [UInt8], into reader: some ReplyReader) -> [RESPValue] {
        var values: [RESPValue] = []
        do {
            try bytes.withUnsafeBytes { try reader.feed($0) }
            while let value = try reader.nextReply() { values.append(value) }
        } catch {}
        return values
    }

    private static func randomValue(depth: Int, using random: inout SplitMix) -> RESPValue {
        // hiredis 0.14 reads arrays nested at most 7 deep.
        switch Int.random(in: 0..<(depth < 5 ? 8 : 6), using: &random) {
        case 0: return .simpleString(randomLine(using: &random))
        case 1: return .error(randomLine(using: &random))
        case 2:
            let edges = [0, 1, -1, Int.max, Int.min, 1_718_000_000_000]
            return .integer(
                Bool.random(using: &random)
                    ? edges[Int.random(in: 0..<edges.count, using: &random)]
                    : Int.random(in: -1_000_000...1_000_000, using: &random))
        case 3: return .nullBulkString
        case 4, 5:
            let length = Int.random(in: 0..<10, using: &random) == 0 ? 300 : Int.random(in: 0...24, using: &random)
            let alphabet: [UInt8] = Array("ab0:\r\n$*".utf8) + [0x00, 0xFF]
            return .bulkString(
                ByteBuffer(
                    bytes: (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }))
        case 6: return .nullArray
        default:
            return .array(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        }
    }

    private static func randomLine(using random: inout SplitMix) -> String {
        let alphabet = Array("OK ERR wrongtype-0:*$\n\r")
        var text = String(
            (0..<Int.random(in: 0...16, using: &random)).map { _ in
                alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
            })
        // A line ends at its first CR LF, so the value cannot hold one.
        while let range = text.range(of: "\r\n") { text.replaceSubrange(range, with: "\n") }
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    static func encode(_ value: RESPValue) -> [UInt8] {
        switch value {
        case .simpleString(let text): return Array("+\(text)\r\n".utf8)
        case .error(let text): return Array("-\(text)\r\n".utf8)
        case .integer(let number): return Array(":\(number)\r\n".utf8)
        case .bulkString(let buffer):
            return Array("$\(buffer.readableBytes)\r\n".utf8) + Array(buffer.readableBytesView) + Array("\r\n".utf8)
        case .nullBulkString: return Array("$-1\r\n".utf8)
        case .array(let values): return Array("*\(values.count)\r\n".utf8) + values.flatMap(encode)
        case .nullArray: return Array("*-1\r\n".utf8)
        }
    }

    private static func mutate(_ bytes: inout [UInt8], using random: inout SplitMix) {
        let specials: [UInt8] = Array("\r\n-+:$*0123456789".utf8)
        let index = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: bytes[index] = specials[Int.random(in: 0..<specials.count, using: &random)]
        case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
        case 2: bytes.insert(specials[Int.random(in: 0..<specials.count, using: &random)], at: index)
        default: if bytes.count > 1 { bytes.remove(at: index) }
        }
    }
}

/// What the parser under test and hiredis's reader have in common.
protocol ReplyReader {
    func feed(_ bytes: UnsafeRawBufferPointer) throws
    func nextReply() throws -> RESPValue?
}

extension BufferedParser: ReplyReader {}
extension HiredisReader: ReplyReader {}
