/// Parses `Sec-WebSocket-Extensions` header values (RFC 6455 §9.1) into offers: an
/// extension token and its `; name[=value]` parameters, value a token or a quoted string
/// (unquoted here, as RFC 7692 §7.1 requires of window-bit values).
///
/// Lenient where it cannot matter and strict where it does: an element that does not
/// parse is dropped as a whole (so that offer is declined) and the others still count.
/// Names are lowercased; values are kept as sent.
enum ExtensionOffers {
    struct Offer: Hashable, Sendable {
        var name: String
        var parameters: [Parameter]

        struct Parameter: Hashable, Sendable {
            var name: String
            var value: String?
        }
    }

    static func parse(_ headerValues: [String]) -> [Offer] {
        var offers: [Offer] = []
        for value in headerValues {
            for element in splitOutsideQuotes(Substring(value), on: ",") where !trimmed(element).isEmpty {
                if let offer = parseElement(element) { offers.append(offer) }
            }
        }
        return offers
    }

    private static func parseElement(_ element: Substring) -> Offer? {
        let parts = splitOutsideQuotes(element, on: ";").map(trimmed)
        guard let name = parts.first, isToken(name) else { return nil }
        var parameters: [Offer.Parameter] = []
        for part in parts.dropFirst() {
            guard !part.isEmpty else { return nil }
            guard let equals = part.firstIndex(of: "=") else {
                guard isToken(part) else { return nil }
                parameters.append(Offer.Parameter(name: part.lowercased(), value: nil))
                continue
            }
            let key = trimmed(part[..<equals])
            var value = trimmed(part[part.index(after: equals)...])
            guard isToken(key) else { return nil }
            if value.first == "\"" {
                guard let unquoted = unquote(value) else { return nil }
                value = Substring(unquoted)
            }
            guard isToken(value) else { return nil }
            parameters.append(Offer.Parameter(name: key.lowercased(), value: String(value)))
        }
        return Offer(name: name.lowercased(), parameters: parameters)
    }

    /// Splits at `separator` outside double quotes (a quoted value may hold `,` or `;`);
    /// empty pieces are kept (empty list elements are fine, empty parameters are not).
    private static func splitOutsideQuotes(_ text: Substring, on separator: Character) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex
        var quoted = false
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if escaped {
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted && character == separator {
                pieces.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        pieces.append(text[start...])
        return pieces
    }

    private static func unquote(_ text: Substring) -> String? {
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return nil }
        var result = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return nil
            } else {
                result.append(character)
            }
        }
        return escaped ? nil : result
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var slice = text
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return slice
    }

    /// RFC 7230 token characters.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default:
                    "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
