#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Logging
import PortcullisBus

/// A swift-log handler that writes each record as one line on stderr, in logfmt
/// (`ts=… level=… msg="…" key=value…`) or as one JSON object (`edge.log_format`).
///
/// Every line starts with `ts` (UTC, milliseconds), `level`, `msg` and `logger`; the
/// metadata follows sorted by key, so lines diff and grep the same way every time. Lines
/// are written to file descriptor 2 with one `write(2)` each.
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable {
        case logfmt
        case json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format

    public init(label: String, format: Format, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        var text = Self.line(
            format, timestamp: Self.now(), level: event.level, message: "\(event.message)", label: label,
            metadata: merged)
        text.append("\n")
        Self.writeToStandardError(Array(text.utf8))
    }

    /// One `write(2)` per line when the kernel takes it whole (it does for a pipe up to
    /// `PIPE_BUF` and for files), so concurrent lines do not interleave.
    private static func writeToStandardError(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// One record as a line (without its newline); `timestamp` is the `ts` field.
    static func line(
        _ format: Format, timestamp: String, level: Logger.Level, message: String, label: String,
        metadata: Logger.Metadata
    ) -> String {
        let fixed: [(String, Logger.MetadataValue)] = [
            ("ts", .string(timestamp)), ("level", .string(level.rawValue)), ("msg", .string(message)),
            ("logger", .string(label)),
        ]
        let fields = fixed + metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var output = ""
        switch format {
        case .logfmt:
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { output.append(" ") }
                output += logfmtKey(key)
                output.append("=")
                appendLogfmt(value, to: &output)
            }
        case .json:
            output.append("{")
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { output.append(",") }
                JSONStringLiteral.append(key, to: &output)
                output.append(":")
                appendJSON(value, to: &output)
            }
            output.append("}")
        }
        return output
    }

    // MARK: logfmt

    /// Keys keep letters, digits and `._-/`; anything else becomes `_`.
    static func logfmtKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        var output = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "/": output.unicodeScalars.append(scalar)
            default: output.append("_")
            }
        }
        return output
    }

    private static func appendLogfmt(_ value: Logger.MetadataValue, to output: inout String) {
        let text: String
        switch value {
        case .string(let string): text = string
        case .stringConvertible(let convertible): text = convertible.description
        case .array, .dictionary:
            var json = ""
            appendJSON(value, to: &json)
            text = json
        }
        if needsQuotes(text) {
            // A quoted logfmt value takes the same escapes as a JSON string; UTF-8 stays.
            JSONStringLiteral.append(text, to: &output)
        } else {
            output += text
        }
    }

    /// Bare values are non-empty runs of printable ASCII without space, `=`, `"` or `\`.
    private static func needsQuotes(_ text: String) -> Bool {
        text.isEmpty
            || text.utf8.contains { byte in
                byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "\"")
                    || byte == UInt8(ascii: "\\")
            }
    }

    // MARK: JSON

    private static func appendJSON(_ value: Logger.MetadataValue, to output: inout String) {
        switch value {
        case .string(let string):
            JSONStringLiteral.append(string, to: &output)
        case .stringConvertible(let convertible):
            JSONStringLiteral.append(convertible.description, to: &output)
        case .array(let elements):
            output.append("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(",") }
                appendJSON(element, to: &output)
            }
            output.append("]")
        case .dictionary(let members):
            output.append("{")
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(",") }
                JSONStringLiteral.append(member.key, to: &output)
                output.append(":")
                appendJSON(member.value, to: &output)
            }
            output.append("}")
        }
    }

    // MARK: Time

    /// The current time as `2026-01-02T03:04:05.678Z`.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return timestamp(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000)
    }

    /// `seconds` since the Unix epoch, in UTC with milliseconds.
    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "."
            + pad(Int32(milliseconds), 3) + "Z"
    }
}
