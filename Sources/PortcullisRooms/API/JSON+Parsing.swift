import PortcullisWire

/// Parsing behind ``JSON/init(parsing:)``: the package's strict RFC 8259 scanner
/// (``JSONScanner``, the one the edge validates client data with) walked straight into
/// ``JSON`` values.
///
/// Every envelope's data is parsed once per handler read; through `JSONDecoder` (which
/// tries each type in turn and throws on every miss) that was the largest share of the
/// rooms worker's CPU per message. It builds what `JSONDecoder` did: a value of any type at
/// the top level between whitespace, integers without fraction or exponent that fit in
/// `Int` as `.int` and other numbers as `.double` (finite only), the first of duplicate
/// member names. It is stricter where the decoder went beyond RFC 8259: no trailing commas
/// (`[1,]`), nothing but whitespace after the value (the decoder ignored the `2` of
/// `[1] 2`), and nesting up to ``JSONScanner/maxDepth`` levels, the edge's own limit for
/// the data it forwards (the decoder's was 512).
enum JSONParsing {
    static func parse(_ text: String) -> JSON? {
        var scanner = JSONScanner(Array(text.utf8))
        do throws(JSONScanner.Failure) {
            scanner.skipWhitespace()
            let value = try self.value(&scanner, depth: 0)
            scanner.skipWhitespace()
            return scanner.isAtEnd ? .some(value) : .none
        } catch {
            return .none
        }
    }

    private static func value(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanner.Failure) -> JSON {
        guard depth < JSONScanner.maxDepth else { throw JSONScanner.Failure(message: "nesting too deep") }
        switch scanner.peek() {
        case UInt8(ascii: "{"):
            var members: [String: JSON] = [:]
            try scanner.scanObjectMembers { name, scanner throws(JSONScanner.Failure) in
                let member = try value(&scanner, depth: depth + 1)
                if members[name] == nil { members[name] = member }
            }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSON] = []
            try scanner.scanArrayElements { scanner throws(JSONScanner.Failure) in
                elements.append(try value(&scanner, depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try scanner.scanString())
        default:
            let range = try scanner.skipValue(depth: depth)
            return try scalar(scanner.bytes[range])
        }
    }

    /// A literal or a number, already checked by the scanner.
    private static func scalar(_ bytes: ArraySlice<UInt8>) throws(JSONScanner.Failure) -> JSON {
        switch bytes.first {
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "n"): return .null
        default:
            let text = String(decoding: bytes, as: UTF8.self)
            let integral = !bytes.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
            if integral, let value = Int(text) { return .int(value) }
            guard let value = Double(text), value.isFinite else {
                throw JSONScanner.Failure(message: "number out of range")
            }
            return .double(value)
        }
    }
}
