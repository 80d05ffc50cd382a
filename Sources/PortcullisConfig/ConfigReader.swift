internal import Yams

/// A cursor on one node of a composed YAML file that knows where it is: the file, the
/// line, and the key path from the file's root (`routes[0].proxy.upstream`).
///
/// Typed getters expand `${VAR}` references, check the syntax and report a `ConfigError`
/// at this node's location when the value is wrong; they return nil after reporting, so
/// decoding carries on and every mistake in a file is found in one pass. A reader never
/// throws. Only `ConfigLoader` creates readers; errors go to the `ConfigDecoder` that owns
/// the load. Public so that other conf files (the rooms worker's) decode their schema with
/// the same rules and messages as the edge's: the typed getters other schemas need are
/// public, the edge's own value syntaxes stay internal.
public struct ConfigReader {
    let node: Node
    /// Display path of the file this node was read from.
    let file: String
    let line: Int
    let path: String
    let decoder: ConfigDecoder

    init(node: Node, file: String, line: Int, path: String, decoder: ConfigDecoder) {
        self.node = node
        self.file = file
        self.line = line
        self.path = path
        self.decoder = decoder
    }

    public var location: SourceLocation { SourceLocation(file: file, line: line, keyPath: path) }

    /// A plain `~`, `null` or empty value: YAML's way to write "nothing", treated as absent.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// Reports `message` at this node's file, line and key path.
    public func fail(_ message: String, code: ConfigError.Code = .invalidValue) {
        decoder.report(ConfigError(code, location: location, message: message))
    }

    /// Reports `message` at `location`: a key below this node that decoding recorded
    /// (``RedisSettings/location``), for checks made after decoding.
    public func fail(_ message: String, at location: SourceLocation, code: ConfigError.Code = .invalidValue) {
        decoder.report(ConfigError(code, location: location, message: message))
    }

    func child(_ node: Node, key: String, line: Int) -> ConfigReader {
        ConfigReader(node: node, file: file, line: line, path: path.isEmpty ? key : "\(path).\(key)", decoder: decoder)
    }

    func element(_ node: Node, index: Int) -> ConfigReader {
        ConfigReader(node: node, file: file, line: node.mark?.line ?? line, path: "\(path)[\(index)]", decoder: decoder)
    }

    // MARK: Scalars

    /// The scalar's text after `${VAR}` expansion; reports `expected <what>` for a list or mapping.
    func scalar(expected what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            fail("expected \(what), got \(describeNode())")
            return nil
        }
        switch VariableExpansion.expand(scalar.string, environment: decoder.environment) {
        case .success(let text):
            return text
        case .failure(.undefined(let name)):
            fail(
                "environment variable \(name) is not set (write ${\(name):-default} to give a default)",
                code: .undefinedVariable)
        case .failure(.unterminated):
            fail("unterminated ${ (write $${ for a literal ${)")
        case .failure(.invalidReference(let reference)):
            fail("invalid variable reference ${\(reference)} (expected ${NAME} or ${NAME:-default})")
        }
        return nil
    }

    public func string() -> String? {
        scalar(expected: "a string")
    }

    /// A name made of letters, digits and the characters in `extra` (`_-` by default).
    public func name(extra: String = "_-", maxLength: Int = 64) -> String? {
        guard let text = scalar(expected: "a name") else { return nil }
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || extra.contains($0)) }
        guard allowed, (1...maxLength).contains(text.count) else {
            let extras = extra.map { "\"\($0)\"" }.joined(separator: ", ")
            fail("\(quoted(text)) is not a valid name (1 to \(maxLength) letters, digits, \(extras))")
            return nil
        }
        return text
    }

    public func int(min: Int = .min, max: Int = .max) -> Int? {
        guard let text = scalar(expected: "an integer") else { return nil }
        guard let value = Int(text) else {
            fail("expected an integer, got \(quoted(text))")
            return nil
        }
        guard value >= min, value <= max else {
            if max == .max {
                fail("must be at least \(min), got \(value)")
            } else {
                fail("must be between \(min) and \(max), got \(value)")
            }
            return nil
        }
        return value
    }

    func bool() -> Bool? {
        guard let text = scalar(expected: "true or false") else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            fail("expected true or false, got \(quoted(text))")
            return nil
        }
    }

    /// `version:` of a conf file: an integer, and this build reads only version 1.
    public func formatVersion() -> Int? {
        guard let version = int() else { return nil }
        if version != 1 {
            fail("unsupported version \(version) (this build reads version 1)")
        }
        return version
    }

    /// A duration (`30s`, `1m30s`); `positive` rejects zero. A bare number is refused with
    /// the seconds spelling as suggestion: units are never guessed.
    public func duration(positive: Bool = true) -> Duration? {
        guard let text = scalar(expected: "a duration like 30s") else { return nil }
        guard let value = ConfigValue.duration(text) else {
            let bare = !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
            let hint = bare ? " (did you mean \"\(text)s\"?)" : ""
            fail("expected a duration like 30s, got \(quoted(text))\(hint)")
            return nil
        }
        if positive && value == .zero {
            fail("must be longer than 0s")
            return nil
        }
        return value
    }

    /// A size (`64KiB`); `range` bounds are shown in the error as `rangeText`.
    func size(in range: ClosedRange<Int> = 0...Int.max, rangeText: String = "") -> Int? {
        guard let text = scalar(expected: "a size like 64KiB") else { return nil }
        guard let value = ConfigValue.size(text) else {
            fail("expected a size like 64KiB, got \(quoted(text))")
            return nil
        }
        guard range.contains(value) else {
            fail("must be \(rangeText), got \(text)")
            return nil
        }
        return value
    }

    public func hostPort() -> HostPort? {
        guard let text = scalar(expected: "host:port like 0.0.0.0:8443") else { return nil }
        guard let value = ConfigValue.hostPort(text) else {
            fail("expected host:port like 0.0.0.0:8443 or [::1]:8443, got \(quoted(text))")
            return nil
        }
        return value
    }

    /// A file path; relative paths resolve against the directory of this node's file.
    func filePath() -> String? {
        guard let text = scalar(expected: "a file path") else { return nil }
        guard !text.isEmpty else {
            fail("expected a file path, got an empty string")
            return nil
        }
        return ConfFile.resolve(text, relativeToFileAt: file)
    }

    /// The text of the file at `path` that this node names (a `*_file` key); reports
    /// `cannot read <path>: <reason>` here when it cannot be read.
    func contents(of path: String) -> String? {
        switch ConfFile.readText(path) {
        case .success(let text):
            return text
        case .failure(let problem):
            fail("cannot read \(path): \(problem.reason)", code: .unreadableFile)
            return nil
        }
    }

    /// The contents of the file this node names (a `*_file` key holding a secret), one
    /// trailing newline trimmed; nil after reporting when it cannot be read. Never echoes
    /// the contents.
    func secretFileContents() -> String? {
        guard let path = filePath(), var contents = contents(of: path) else { return nil }
        if let last = contents.last, last == "\n" || last == "\r\n" {
            contents.removeLast()
        }
        return contents
    }

    // MARK: Collections

    /// Calls `body` with a reader for each element; nil (after reporting) when this is not a list.
    public func list<T>(_ body: (ConfigReader) -> T?) -> [T]? {
        guard case .sequence(let sequence) = node else {
            fail("expected a list, got \(describeNode())")
            return nil
        }
        return sequence.enumerated().compactMap { index, item in body(element(item, index: index)) }
    }

    /// Reads this node as a mapping; keys that `body` did not ask for are reported as
    /// unknown, with `unknownKeyHint` in place of the did-you-mean when given.
    public func mapping<T>(unknownKeyHint: String? = nil, _ body: (MappingReader) -> T) -> T? {
        guard case .mapping(let mapping) = node else {
            fail("expected a mapping, got \(describeNode())")
            return nil
        }
        let reader = MappingReader(mapping, reader: self)
        let result = body(reader)
        reader.reportUnknownKeys(hint: unknownKeyHint)
        return result
    }

    // MARK: Describing values in messages

    func describeNode() -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar): return isNull ? "nothing" : quoted(scalar.string)
        }
    }

    public func quoted(_ text: String) -> String {
        let shown = text.count > 60 ? text.prefix(57) + "..." : Substring(text)
        return "\"" + String(shown).replacing("\"", with: "\\\"") + "\""
    }
}
