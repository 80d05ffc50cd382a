extension JSONString {
    /// Writes `string` as a JSON string literal byte for byte as Rails'
    /// `ActiveSupport::JSON.encode` does with the framework defaults, for the ActionCable
    /// frames whose strings we author (a disconnect reason, an identifier that reached us
    /// decoded rather than as a client's token).
    ///
    /// ActiveSupport lets the `json` gem write the literal (`\"`, `\\`, `\b`, `\f`, `\n`,
    /// `\r`, `\t`, other C0 controls as lowercase `\u00xx`, `/` and everything else raw
    /// UTF-8), then rewrites `<`, `>` and `&` (`escape_html_entities_in_json`) and U+2028 /
    /// U+2029 (`escape_js_separators_in_json`) as `\u003c`, `\u003e`, `\u0026`, `\u2028`,
    /// `\u2029` (activesupport `json/encoding.rb`, `ESCAPED_CHARS`). Apps on
    /// `load_defaults "8.1"` turn the separator escape off; both spellings parse to the same
    /// string, so we keep the framework default.
    public static func encodeLikeActiveSupport(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output.append(contentsOf: #"\""#.utf8)
            case "\\": output.append(contentsOf: #"\\"#.utf8)
            case "\u{08}": output.append(contentsOf: #"\b"#.utf8)
            case "\u{0C}": output.append(contentsOf: #"\f"#.utf8)
            case "\n": output.append(contentsOf: #"\n"#.utf8)
            case "\r": output.append(contentsOf: #"\r"#.utf8)
            case "\t": output.append(contentsOf: #"\t"#.utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                Self.appendUnicodeEscape(scalar.value, into: &output)
            case _ where scalar.value < 0x20:
                Self.appendUnicodeEscape(scalar.value, into: &output)
            default:
                output.append(contentsOf: scalar.utf8)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// `\u` and four lowercase hex digits, as the `json` gem and ActiveSupport write them.
    private static func appendUnicodeEscape(_ value: UInt32, into output: inout [UInt8]) {
        output.append(contentsOf: #"\u"#.utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8((value >> UInt32(shift)) & 0xF)
            output.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }
}
