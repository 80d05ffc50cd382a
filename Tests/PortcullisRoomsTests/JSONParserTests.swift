import Foundation
import PortcullisWire
import Testing

@testable import PortcullisRooms

/// `JSON(parsing:)` against `JSONDecoder`, which it replaced on the message path: the same
/// values from the same texts, and nil where the decoder threw.
@Suite struct JSONParserTests {
    /// What `JSON(parsing:)` returned before: the value `JSONDecoder` decodes.
    static func reference(_ text: String) -> JSON? {
        try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))
    }

    /// Numbers compared by value: `1e2` is an integer to one and a double to the other,
    /// and both read back through `int` as 100.
    static func same(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (.int(let x)?, .double(let y)?), (.double(let y)?, .int(let x)?): return Double(x) == y
        case (.array(let x)?, .array(let y)?): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x)?, .object(let y)?):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return a == b
        }
    }

    static let valid = [
        #"{"event":"tick","data":{"n":42,"room":"r1"}}"#,
        #"[{"room":"lobby"},"x",1,-2.5,1e3,true,false,null]"#,
        #"  "text"  "#, "0", "-0", "12345678901234567890", "3.14159", "-1E-2", "[]", "{}", "[[[]]]",
        #""esc \" \\ \/ \b \f \n \r \t \u00e9 \u2028 \ud83d\ude00""#,
        #"{"a":1,"a":2}"#, #""héllo wörld 😀""#, "\t\n\r [ 1 , 2 ] \n",
        #"{"community_member_id":42,"body":"hi","nested":{"list":[1,{"x":null}]}}"#,
    ]

    static let invalid = [
        "", " ", "{", "}", "[1 2]", #"{"a" 1}"#, #"{"a":}"#, "{,}", "01", "-", "1.", ".5", "1e", "+1",
        "tru", "nul", "True", "NaN", "Infinity", #""unterminated"#, "\"raw \u{01} control\"", #""\x""#,
        #""\ud800""#, #""\udc00 low first""#, #""\u12""#, "1e400", #"{"a":1}}"#, "[",
    ]

    @Test func validTextsParseAsTheDecoderDid() {
        for text in Self.valid {
            let parsed = JSON(parsing: text)
            #expect(parsed != nil, "\(text)")
            #expect(Self.same(parsed, Self.reference(text)), "\(text)")
        }
    }

    @Test func invalidTextsAreRefusedAsTheDecoderRefusedThem() {
        for text in Self.invalid {
            #expect(JSON(parsing: text) == nil, "\(text)")
            #expect(Self.reference(text) == nil, "the decoder took \(text)")
        }
    }

    /// Texts that are not JSON but that the decoder took; the parser refuses them.
    static let lenient = ["[1] 2", #"{"a":1} {"b":2}"#, "[1,]", "[[[],]]", #"{"a":1,}"#]

    @Test func trailingTextAndTrailingCommasAreRefused() {
        for text in Self.lenient {
            #expect(JSON(parsing: text) == nil, "\(text)")
        }
        #expect(JSON(parsing: "[1] \n") == [1])
    }

    /// Whether the decoder's leniency explains its answer: a trailing comma, or a whole
    /// value before the end.
    static func isLenientOnly(_ text: String) -> Bool {
        let compact = text.filter { !" \t\n\r".contains($0) }
        if compact.contains(",]") || compact.contains(",}") { return true }
        return (1..<max(text.count, 1)).contains { JSON(parsing: String(text.prefix($0))) != nil }
    }

    @Test func integersStayIntegersAndTheRestAreDoubles() {
        #expect(JSON(parsing: "42") == .int(42))
        #expect(JSON(parsing: "-7") == .int(-7))
        #expect(JSON(parsing: "42.5") == .double(42.5))
        #expect(JSON(parsing: "99999999999999999999") == .double(1e20))
        #expect(JSON(parsing: #"{"id":7}"#)?["id"]?.identifier == "7")
    }

    @Test func nestingStopsAtTheEdgesLimit() {
        let limit = JSONScanner.maxDepth
        #expect(JSON(parsing: String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) != nil)
        #expect(
            JSON(parsing: String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)) == nil)
        #expect(
            JSON(
                parsing: String(repeating: #"{"a":"#, count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
            ) == nil)
    }

    /// Mutations of the valid texts (bytes replaced, dropped, duplicated), a fixed seed:
    /// whatever one parser makes of them, the other makes too.
    @Test func mutatedTextsGetTheSameAnswerFromBoth() {
        var random = SplitMix(seed: 0x5EED)
        let alphabet = Array(#"{}[]",:\u0123456789eE+-.tfnrl "a\"#.utf8)
        var compared = 0
        for text in Self.valid {
            for _ in 0..<300 {
                var bytes = Array(text.utf8)
                for _ in 0..<(1 + Int(random.next() % 3)) where !bytes.isEmpty {
                    let at = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(bytes[at], at: at)
                    }
                }
                guard let mutated = String(validating: bytes, as: UTF8.self) else { continue }
                let reference = Self.reference(mutated)
                if reference != nil, JSON(parsing: mutated) == nil, Self.isLenientOnly(mutated) { continue }
                #expect(Self.same(JSON(parsing: mutated), reference), "\(mutated)")
                compared += 1
            }
        }
        #expect(compared > 3000)
    }
}

/// A small deterministic generator for the mutations.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
