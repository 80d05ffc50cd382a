/// Expands environment references inside a scalar value before it is typed.
///
/// `${NAME}` is replaced by the variable's value and is an error when it is unset;
/// `${NAME:-default}` falls back to `default` when the variable is unset or empty;
/// `$${` is a literal `${`. A `$` anywhere else is literal. Defaults cannot nest.
enum VariableExpansion {
    enum Failure: Error, Equatable {
        /// The variable is unset and the reference has no default.
        case undefined(String)
        /// `${` without a closing `}`.
        case unterminated
        /// The text between `${` and `}` is not `NAME` or `NAME:-default`.
        case invalidReference(String)
    }

    static func expand(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        guard text.contains("$") else { return .success(text) }
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.hasPrefix("${") {
                output += "${"
                rest = afterDollar.dropFirst(2)
                continue
            }
            guard afterDollar.hasPrefix("{") else {
                output += "$"
                rest = afterDollar
                continue
            }
            let body = afterDollar.dropFirst()
            guard let close = body.firstIndex(of: "}") else { return .failure(.unterminated) }
            let reference = body[..<close]
            rest = body[body.index(after: close)...]
            let name: Substring
            let fallback: Substring?
            if let separator = reference.range(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
                fallback = nil
            }
            guard isVariableName(name) else { return .failure(.invalidReference(String(reference))) }
            if let value = environment[String(name)], fallback == nil || !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                return .failure(.undefined(String(name)))
            }
        }
        output += rest
        return .success(output)
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
