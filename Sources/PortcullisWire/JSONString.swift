/// Writes Swift strings as JSON string literals for the envelopes we build.
///
/// Escapes what RFC 8259 requires plus U+2028/U+2029, which some JavaScript consumers
/// still choke on inside string literals; everything else is emitted as UTF-8.
public enum JSONString {
    public static func encode(_ string: String, into output: inout String) {
        output.append("\"")
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case "\u{2028}": output.append("\\u2028")
            case "\u{2029}": output.append("\\u2029")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }

    public static func encode(_ string: String) -> String {
        var output = ""
        self.encode(string, into: &output)
        return output
    }
}
