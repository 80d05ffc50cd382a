/// One mistake found while loading a configuration, with where it was written.
///
/// `description` is what `portcullis check` prints, one error per line:
/// `conf/routes.d/api.yaml:12: routes[0].proxy.upstream: no upstream named "ap"`.
/// Errors about a whole file (cannot read it, bad YAML) have an empty key path and print as
/// `file:line: message`, or `file: message` when no line is known.
///
/// Messages never contain the value of a secret key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// What kind of mistake this is, for callers that react to some kinds differently
    /// (tests, editors); humans read `message`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unreadableFile = "unreadable file"
            case invalidYAML = "invalid YAML"
            case unknownKey = "unknown key"
            case missingKey = "missing key"
            case invalidValue = "invalid value"
            case undefinedVariable = "undefined variable"
            case duplicate = "duplicate"
            case unknownReference = "unknown reference"
            case missingFile = "missing file"
            case includeCycle = "include cycle"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A conf file, an included file or a `*_file` secret could not be read.
        public static let unreadableFile = Code(.unreadableFile)
        /// The YAML parser rejected a file (syntax error, duplicate key in a mapping).
        public static let invalidYAML = Code(.invalidYAML)
        /// A mapping has a key the schema does not know.
        public static let unknownKey = Code(.unknownKey)
        /// A required key is absent or has no value.
        public static let missingKey = Code(.missingKey)
        /// A value has the wrong type, syntax or range.
        public static let invalidValue = Code(.invalidValue)
        /// `${VAR}` names a variable that is not set and has no default.
        public static let undefinedVariable = Code(.undefinedVariable)
        /// A name or listener address is declared twice.
        public static let duplicate = Code(.duplicate)
        /// A route names an upstream or listener that does not exist.
        public static let unknownReference = Code(.unknownReference)
        /// A certificate or key file named by the configuration does not exist.
        public static let missingFile = Code(.missingFile)
        /// An include leads back to a file that is already being loaded.
        public static let includeCycle = Code(.includeCycle)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Nil only when not even the file is known.
    public var location: SourceLocation?
    public var message: String

    public init(_ code: Code, location: SourceLocation?, message: String) {
        self.code = code
        self.location = location
        self.message = message
    }

    public var description: String {
        guard let location else { return message }
        var text = location.file
        if location.line > 0 {
            text += ":\(location.line)"
        }
        if !location.keyPath.isEmpty {
            text += ": \(location.keyPath)"
        }
        return text + ": " + message
    }
}
