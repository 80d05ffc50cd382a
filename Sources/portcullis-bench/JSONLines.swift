import Foundation

/// Machine-readable output: one JSON object per line on stdout, written with one write(2)
/// each so lines from the event loop and from the main task never interleave.
///
/// Keys are snake_case (`p99_us`), so drivers in any language read them without mapping.
enum JSONLines {
    static func emit(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var data = try? encoder.encode(value) else { return }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }

    /// A human-readable note on stderr (never parsed).
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("portcullis-bench: \(message)\n".utf8))
    }
}
