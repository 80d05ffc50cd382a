extension JSONScanner {
    /// One occurrence of a member's value, as much as a caller checking its type needs.
    enum MemberValue: Hashable {
        case string(String)
        case null
        case other
    }

    /// Every value of member `key` in `text`, which must be exactly one JSON object (with
    /// optional whitespace around it), in order of appearance. ActionCable nests JSON text
    /// inside JSON strings (an identifier's `channel`, a message's `action`); this reads one
    /// member of such text without building a tree, and returns all occurrences so callers
    /// can refuse duplicates instead of guessing which one another parser would keep.
    static func values(of key: String, inObject text: String) throws(Failure) -> [MemberValue] {
        var scanner = JSONScanner(Array(text.utf8))
        var values: [MemberValue] = []
        try scanner.scanObjectMembers { member, scanner throws(Failure) in
            guard member == key else {
                try scanner.skipValue(depth: 1)
                return
            }
            if scanner.peek() == UInt8(ascii: "\"") {
                values.append(.string(try scanner.scanString()))
            } else {
                let range = try scanner.skipValue(depth: 1)
                values.append(scanner.bytes[range].elementsEqual("null".utf8) ? .null : .other)
            }
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw Failure(message: "trailing data after JSON object") }
        return values
    }
}
