/// A strict RFC 8259 JSON scanner over UTF-8 bytes that finds value *boundaries*
/// without building a tree.
///
/// The raw protocol must forward a client's `data` as the exact text it sent, so
/// instead of decoding and re-serializing we validate the grammar and hand back byte
/// ranges. Recursion is bounded by ``maxDepth`` so hostile nesting cannot exhaust the
/// stack; every failure is a thrown ``JSONScanner/Failure``, never a trap.
///
/// Visible to the package's other modules: the edge reads the publish API's bodies with it,
/// forwarding the values backends send as the text they wrote.
package struct JSONScanner {
    package struct Failure: Error, Hashable {
        package var message: String

        package init(message: String) {
            self.message = message
        }
    }

    package static let maxDepth = 64

    package let bytes: [UInt8]
    package private(set) var index = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var isAtEnd: Bool {
        self.index == self.bytes.count
    }

    package mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    package func peek() -> UInt8? {
        self.index < self.bytes.count ? self.bytes[self.index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard self.peek() == byte else { throw Failure(message: "expected \(what)") }
        self.index += 1
    }

    /// Walks the members of the object that starts here (after optional whitespace):
    /// `body` gets each key with the scanner positioned on its value, and must consume
    /// that value (scan or skip it).
    package mutating func scanObjectMembers(
        _ body: (String, inout JSONScanner) throws(Failure) -> Void
    ) throws(Failure) {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "{") else { throw Failure(message: "expected a JSON object") }
        try self.expect(UInt8(ascii: "{"), "'{'")
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "}") {
            try self.expect(UInt8(ascii: "}"), "'}'")
            return
        }
        while true {
            self.skipWhitespace()
            let key = try self.scanString()
            self.skipWhitespace()
            try self.expect(UInt8(ascii: ":"), "':'")
            self.skipWhitespace()
            try body(key, &self)
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: ",") {
                try self.expect(UInt8(ascii: ","), "','")
                continue
            }
            try self.expect(UInt8(ascii: "}"), "',' or '}'")
            return
        }
    }

    /// Walks the elements of the array that starts here (after optional whitespace): `body`
    /// gets the scanner positioned on each element, and must consume it (scan or skip it).
    package mutating func scanArrayElements(_ body: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "[") else { throw Failure(message: "expected a JSON array") }
        self.index += 1
        try self.skipContainer(close: UInt8(ascii: "]"), depth: 0, element: body)
    }

    /// Skips one value and returns the byte range it occupied.
    @discardableResult
    package mutating func skipValue(depth: Int) throws(Failure) -> Range<Int> {
        let start = self.index
        guard depth < Self.maxDepth else { throw Failure(message: "nesting too deep") }
        switch self.peek() ?? 0 {
        case UInt8(ascii: "{"):
            self.index += 1
            try self.skipContainer(close: UInt8(ascii: "}"), depth: depth) { scanner throws(Failure) in
                _ = try scanner.scanString()
                scanner.skipWhitespace()
                try scanner.expect(UInt8(ascii: ":"), "':'")
                scanner.skipWhitespace()
                try scanner.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            self.index += 1
            try self.skipContainer(close: UInt8(ascii: "]"), depth: depth) { scanner throws(Failure) in
                try scanner.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""):
            _ = try self.scanString()
        case UInt8(ascii: "t"):
            try self.skipLiteral("true")
        case UInt8(ascii: "f"):
            try self.skipLiteral("false")
        case UInt8(ascii: "n"):
            try self.skipLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.skipNumber()
        default:
            throw Failure(message: "expected a JSON value")
        }
        return start..<self.index
    }

    private mutating func skipContainer(
        close: UInt8,
        depth: Int,
        element: (inout JSONScanner) throws(Failure) -> Void
    ) throws(Failure) {
        self.skipWhitespace()
        if self.peek() == close {
            self.index += 1
            return
        }
        while true {
            self.skipWhitespace()
            try element(&self)
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: ","): self.index += 1
            case close:
                self.index += 1
                return
            default: throw Failure(message: "expected ',' or closing bracket")
            }
        }
    }

    private mutating func skipLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        guard self.index + count <= self.bytes.count,
            self.bytes[self.index..<self.index + count].elementsEqual(expected)
        else { throw Failure(message: "invalid literal") }
        self.index += count
    }

    private mutating func skipDigits() throws(Failure) {
        let start = self.index
        while let byte = self.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            self.index += 1
        }
        guard self.index > start else { throw Failure(message: "expected a digit") }
    }

    private mutating func skipNumber() throws(Failure) {
        if self.peek() == UInt8(ascii: "-") { self.index += 1 }
        if self.peek() == UInt8(ascii: "0") {
            self.index += 1
        } else {
            try self.skipDigits()
        }
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            try self.skipDigits()
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.index += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
            try self.skipDigits()
        }
    }

    /// Scans a string starting at its opening quote and returns its decoded value.
    /// Lone surrogate escapes are rejected since they cannot form a Swift `String`.
    package mutating func scanString() throws(Failure) -> String {
        try self.expect(UInt8(ascii: "\""), "'\"'")
        // Most strings hold no escape: they come back as one decoded run, with no
        // scalar-by-scalar copy.
        var text = ""
        var escaped = false
        var runStart = self.index
        while true {
            guard let byte = self.peek() else { throw Failure(message: "unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                let run = String(decoding: self.bytes[runStart..<self.index], as: UTF8.self)
                self.index += 1
                guard escaped else { return run }
                text += run
                return text
            case UInt8(ascii: "\\"):
                text += String(decoding: self.bytes[runStart..<self.index], as: UTF8.self)
                self.index += 1
                text.unicodeScalars.append(try self.scanEscape())
                escaped = true
                runStart = self.index
            case 0x00..<0x20:
                throw Failure(message: "control character in string")
            default:
                self.index += 1
            }
        }
    }

    private mutating func scanEscape() throws(Failure) -> Unicode.Scalar {
        guard let byte = self.peek() else { throw Failure(message: "unterminated escape") }
        self.index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try self.scanHex4()
            if (0xD800...0xDBFF).contains(unit) {
                guard self.peek() == UInt8(ascii: "\\") else { throw Failure(message: "lone surrogate") }
                self.index += 1
                try self.expect(UInt8(ascii: "u"), "low surrogate")
                let low = try self.scanHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw Failure(message: "lone surrogate") }
                let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                return Unicode.Scalar(value)!
            }
            guard let scalar = Unicode.Scalar(unit) else { throw Failure(message: "lone surrogate") }
            return scalar
        default:
            throw Failure(message: "invalid escape")
        }
    }

    private mutating func scanHex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = self.peek() else { throw Failure(message: "truncated \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(message: "invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }
}
