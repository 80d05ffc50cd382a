/// A mistake in the rooms configuration file, printed as `file:line: key: message`
/// (`file:line: message` for whole-file problems such as bad YAML).
public struct RoomsConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the YAML parser gave no position.
    public var line: Int?
    /// Dotted key path (`worker.claim_idle`, `apps[1]`); empty for the whole file.
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = self.file
        if let line { text += ":\(line)" }
        text += ": "
        if !self.key.isEmpty { text += "\(self.key): " }
        return text + self.message
    }
}
