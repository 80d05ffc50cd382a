/// Why a stream entry is not a usable envelope. Decoding never traps: every malformed entry
/// ends here, naming the field at fault, so a consumer can log it, move the entry to the
/// dead-letter stream and acknowledge it.
public struct EnvelopeError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure. Compare with the static members (`error.code == .missingField`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case missingField
            case unsupportedVersion
            case invalidValue
            case duplicateField
            case deletedEntry
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A required field is absent (`v`, `id`, `kind`; `target` for a `to` that needs
        /// one; `to` when `target` is given).
        public static let missingField = Code(.missingField)
        /// `v` is not a version this code reads.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A field's value is malformed: not a decimal integer, an unknown `to` or
        /// `dataType`, an empty or over-long `id`, an empty `kind`.
        public static let invalidValue = Code(.invalidValue)
        /// A field appears twice; the entry is ambiguous.
        public static let duplicateField = Code(.duplicateField)
        /// The entry was deleted (XDEL or trimming) while pending; there is nothing to decode.
        public static let deletedEntry = Code(.deletedEntry)

        public var description: String {
            switch self.base {
            case .missingField: "missingField"
            case .unsupportedVersion: "unsupportedVersion"
            case .invalidValue: "invalidValue"
            case .duplicateField: "duplicateField"
            case .deletedEntry: "deletedEntry"
            }
        }
    }

    public var code: Code
    /// The wire name of the field at fault (`v`, `ts`…); nil for ``Code/deletedEntry``.
    public var field: String?
    /// A human-readable explanation, safe to log (it never quotes `data` or `claims`).
    public var message: String

    public init(code: Code, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field {
            return "EnvelopeError(\(self.code), field \(field)): \(self.message)"
        }
        return "EnvelopeError(\(self.code)): \(self.message)"
    }
}

extension EnvelopeError {
    static func missing(_ field: String) -> EnvelopeError {
        EnvelopeError(code: .missingField, field: field, message: "field \(field) is required")
    }

    static func invalid(_ field: String, _ why: String) -> EnvelopeError {
        EnvelopeError(code: .invalidValue, field: field, message: "field \(field): \(why)")
    }
}
