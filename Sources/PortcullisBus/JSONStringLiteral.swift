/// JSON string literals for the code that writes JSON by hand on the bus side (presence
/// records, handlers' payloads, the bench's commands), so each does not carry its own
/// escaping.
public enum JSONStringLiteral {
    /// Appends `text` as a JSON string literal: quotes, backslashes and control characters
    /// escaped as RFC 8259 requires, everything else as it is.
    public static func append(_ text: String, to output: inout String) {
        output.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var output = ""
        append(text, to: &output)
        return output
    }
}
