import PortcullisWire

/// One JSON value of a publish request's body, kept as the text it was written as: that
/// text, untouched, is what an envelope's `data` carries. Objects and arrays are read
/// into members and elements on demand, without building a tree.
///
/// ``parse(_:)`` checks the whole document (RFC 8259, nesting at most
/// `JSONScanner.maxDepth`), so reading the members or elements of a value it returned
/// cannot fail.
struct JSONText: Hashable {
    enum Kind: String {
        case object = "an object"
        case array = "an array"
        case string = "a string"
        case number = "a number"
        case boolean = "a boolean"
        case null
    }

    /// The value's bytes, without surrounding whitespace.
    let bytes: ArraySlice<UInt8>

    var kind: Kind {
        switch bytes.first {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .boolean
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    /// The text as written (the body was checked to be UTF-8).
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The decoded value of a string, nil for anything else.
    var string: String? {
        guard kind == .string else { return nil }
        var scanner = JSONScanner(Array(bytes))
        return try? scanner.scanString()
    }

    /// An integer written as `-?[0-9]+`, as its text; nil for anything else.
    var integerText: String? {
        guard kind == .number, bytes.allSatisfy({ $0 != UInt8(ascii: ".") && $0 | 0x20 != UInt8(ascii: "e") })
        else { return nil }
        return text
    }

    /// The object's members in the order written (duplicates included: callers refuse
    /// them); empty for anything but an object.
    var members: [(key: String, value: JSONText)] {
        guard kind == .object else { return [] }
        var scanner = JSONScanner(Array(bytes))
        var members: [(key: String, value: JSONText)] = []
        try? scanner.scanObjectMembers { key, scanner throws(JSONScanner.Failure) in
            let range = try scanner.skipValue(depth: 1)
            members.append((key, JSONText(bytes: scanner.bytes[range])))
        }
        return members
    }

    /// The array's elements in order; empty for anything but an array.
    var elements: [JSONText] {
        guard kind == .array else { return [] }
        var scanner = JSONScanner(Array(bytes))
        var elements: [JSONText] = []
        try? scanner.scanArrayElements { scanner throws(JSONScanner.Failure) in
            let range = try scanner.skipValue(depth: 1)
            elements.append(JSONText(bytes: scanner.bytes[range]))
        }
        return elements
    }

    /// Why a document is not one JSON value.
    struct Malformed: Error, Hashable {
        var message: String
    }

    /// The one value `body` holds (whitespace around it allowed).
    static func parse(_ body: [UInt8]) throws(Malformed) -> JSONText {
        guard String(validating: body, as: UTF8.self) != nil else { throw Malformed(message: "not valid UTF-8") }
        var scanner = JSONScanner(body)
        scanner.skipWhitespace()
        guard !scanner.isAtEnd else { throw Malformed(message: "empty") }
        let range: Range<Int>
        do throws(JSONScanner.Failure) {
            range = try scanner.skipValue(depth: 0)
        } catch {
            throw Malformed(message: "not valid JSON: \(error.message) at byte \(scanner.index)")
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw Malformed(message: "not valid JSON: trailing data after the value") }
        return JSONText(bytes: body[range])
    }
}
