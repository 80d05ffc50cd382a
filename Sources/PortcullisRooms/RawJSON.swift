import Foundation
import PortcullisBus

/// Reads and writes JSON *text* for apps that pass client values on without decoding them.
///
/// The bus carries JSON byte for byte, and clients compare what comes back with what they
/// sent (the Socket.IO compliance suite expects `42["auth",{"token":"123"}]` for the
/// CONNECT payload `{"token":"123"}`). Going through `JSONSerialization` would reorder
/// object keys and rewrite strings (`/` as `\/`), so these helpers work on the text: they
/// find a member's value, drop insignificant whitespace, and quote a string.
///
/// The input comes from the edge, which has already validated it; these functions still
/// never trap on malformed text, they answer nil instead.
enum RawJSON {
    /// The text of the value of top-level member `key` of the JSON object `text`; nil when
    /// `text` is not an object or has no such member. A key given twice yields the last
    /// value, as `JSON.parse` keeps it.
    static func member(_ key: String, of text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = Self.skipWhitespace(bytes, from: 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: Range<Int>?
        while true {
            index = Self.skipWhitespace(bytes, from: index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { break }
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = Self.endOfString(bytes, at: index) else {
                return nil
            }
            let name = Self.decodeString(bytes[index..<keyEnd])
            index = Self.skipWhitespace(bytes, from: keyEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index = Self.skipWhitespace(bytes, from: index + 1)
            guard let valueEnd = Self.endOfValue(bytes, at: index) else { return nil }
            if name == key { found = index..<valueEnd }
            index = Self.skipWhitespace(bytes, from: valueEnd)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                break
            } else {
                return nil
            }
        }
        return found.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// `text` without whitespace outside strings: what `JSON.stringify(JSON.parse(text))`
    /// writes for it, except that numbers and string escapes stay as they were written.
    static func compact(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` as a JSON string literal: `"`, `\` and control characters escaped, the rest
    /// (including `/` and non-ASCII) as it is.
    static func quoted(_ value: String) -> String {
        JSONStringLiteral.quoted(value)
    }

    private static func skipWhitespace(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
            index += 1
        }
        return index
    }

    /// The index just past the string literal that starts at `start` (a `"`).
    private static func endOfString(_ bytes: [UInt8], at start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// The index just past the value that starts at `start`. Containers are skipped by
    /// counting brackets outside strings; scalars end at the next delimiter.
    private static func endOfValue(_ bytes: [UInt8], at start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return Self.endOfString(bytes, at: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = Self.endOfString(bytes, at: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                    return index > start ? index : nil
                default:
                    index += 1
                }
            }
            return index > start ? index : nil
        }
    }

    /// A key's text; keys with escapes are decoded by Foundation (rare, never on a hot path).
    private static func decodeString(_ literal: ArraySlice<UInt8>) -> String? {
        let body = literal.dropFirst().dropLast()
        if !body.contains(UInt8(ascii: "\\")) {
            return String(decoding: body, as: UTF8.self)
        }
        return (try? JSONSerialization.jsonObject(with: Data(literal), options: [.fragmentsAllowed])) as? String
    }
}
