internal import Yams

/// Reads the keys of one YAML mapping and remembers which keys the schema asked for, so
/// `ConfigReader.mapping(_:)` can report every other key as unknown, with a did-you-mean.
///
/// A key whose value is YAML null (`key:`, `key: ~`) counts as absent. Only used inside
/// the closure passed to `ConfigReader.mapping(_:)`.
public final class MappingReader {
    private struct Entry {
        var key: String
        var line: Int
        var value: Node
    }

    let reader: ConfigReader
    private var entries: [Entry] = []
    private var known: [String] = []

    init(_ mapping: Node.Mapping, reader: ConfigReader) {
        self.reader = reader
        self.entries = collectEntries(mapping)
    }

    /// The mapping's entries in file order, then those merged in with YAML merge keys
    /// (`<<: *defaults`) that the mapping does not set itself.
    private func collectEntries(_ mapping: Node.Mapping) -> [Entry] {
        var own: [Entry] = []
        var merged: [Entry] = []
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? reader.line
            guard case .scalar(let scalar) = keyNode else {
                reader.decoder.report(
                    ConfigError(
                        .invalidValue,
                        location: SourceLocation(file: reader.file, line: line, keyPath: reader.path),
                        message:
                            "keys must be strings, got \(reader.child(keyNode, key: "", line: line).describeNode())"
                    )
                )
                continue
            }
            guard scalar.string == "<<", scalar.style == .plain else {
                own.append(Entry(key: scalar.string, line: line, value: value))
                continue
            }
            let sources = value.mapping.map { [$0] } ?? value.sequence?.compactMap(\.mapping)
            guard let sources, sources.count == (value.sequence?.count ?? 1) else {
                reader.child(value, key: "<<", line: line).fail("expected a mapping or a list of mappings to merge")
                continue
            }
            for source in sources {
                merged += collectEntries(source)
            }
        }
        for entry in merged where !own.contains(where: { $0.key == entry.key }) {
            own.append(entry)
        }
        return own
    }

    var location: SourceLocation { reader.location }

    /// Whether `key` is present with a non-null value.
    func has(_ key: String) -> Bool {
        optional(key) != nil
    }

    /// The reader for `key`'s value, or nil when the key is absent or null.
    public func optional(_ key: String) -> ConfigReader? {
        known.append(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        let value = reader.child(entry.value, key: key, line: entry.line)
        return value.isNull ? nil : value
    }

    /// The reader for `key`'s value; reports a missing required key when absent or null.
    public func required(_ key: String) -> ConfigReader? {
        if let value = optional(key) {
            return value
        }
        if let entry = entries.first(where: { $0.key == key }) {
            reader.child(entry.value, key: key, line: entry.line).fail("missing value", code: .missingKey)
        } else {
            let keyPath = reader.path.isEmpty ? key : "\(reader.path).\(key)"
            reader.decoder.report(
                ConfigError(
                    .missingKey,
                    location: SourceLocation(file: reader.file, line: reader.line, keyPath: keyPath),
                    message: "missing required key"
                )
            )
        }
        return nil
    }

    /// Where `key` was written; the mapping's own location (with the key appended) when absent.
    func location(of key: String) -> SourceLocation {
        let keyPath = reader.path.isEmpty ? key : "\(reader.path).\(key)"
        let line = entries.first(where: { $0.key == key })?.line ?? reader.line
        return SourceLocation(file: reader.file, line: line, keyPath: keyPath)
    }

    /// Calls `body` for every key in file order, for mappings whose keys are names
    /// (`upstreams:`); no key is unknown.
    func forEachEntry(_ body: (String, ConfigReader) -> Void) {
        for entry in entries {
            known.append(entry.key)
            body(entry.key, reader.child(entry.value, key: entry.key, line: entry.line))
        }
    }

    /// A secret string, given either inline as `key: value` or as `key_file: PATH`, whose
    /// contents (one trailing newline trimmed) are the value. Prefer `key_file` so conf
    /// files can be committed; `PATH` resolves like any other path. Giving both is an
    /// error. Error messages never include the secret.
    func secret(_ key: String) -> String? {
        let fileKey = key + "_file"
        let inline = optional(key)
        let file = optional(fileKey)
        if inline != nil, let file {
            file.fail("give either \(key) or \(fileKey), not both", code: .duplicate)
            return nil
        }
        if let inline {
            return inline.scalar(expected: "a string")
        }
        return file?.secretFileContents()
    }

    /// Reports keys present in the mapping that the schema never asked for.
    func reportUnknownKeys(hint: String? = nil) {
        for entry in entries where !known.contains(entry.key) {
            var message = "unknown key"
            if let hint {
                message += " (\(hint))"
            } else if let suggestion = Suggestion.closest(to: entry.key, among: known) {
                message += " (did you mean \"\(suggestion)\"?)"
            }
            reader.decoder.report(
                ConfigError(
                    .unknownKey,
                    location: reader.child(entry.value, key: entry.key, line: entry.line).location,
                    message: message
                )
            )
        }
    }
}
