internal import Yams

/// A file the configuration names and the validate pass checks exists (certificates, keys).
struct FileReference {
    var path: String
    var location: SourceLocation
}

/// What the decode pass produces: the configuration plus what the validate pass needs
/// that `Configuration` does not keep.
struct DecodedConfiguration {
    var configuration: Configuration
    /// Every upstream declaration in load order, duplicates included.
    var upstreams: [Upstream]
    var fileReferences: [FileReference]
    /// False when some listener could not be decoded, so an unknown listener name in a
    /// route may be a consequence of an error already reported.
    var listenersComplete: Bool
    /// False when an `upstreams:` section or a file that may declare upstreams could not
    /// be read.
    var upstreamsComplete: Bool
    var incompleteRoutes: Set<SourceLocation>
}

/// The decode pass of one load: reads the main file and its includes, turns YAML into
/// `Configuration` values and collects every error on the way instead of stopping at the
/// first. Lives for one `ConfigLoader.load` call on one thread.
///
/// Values that fail to decode are replaced by placeholders (an empty name, port 0) so
/// decoding can go on; the loader never returns a configuration when any error was
/// reported, and the validate pass skips empty names.
final class ConfigDecoder {
    let environment: [String: String]
    private(set) var errors: [ConfigError] = []
    /// Display paths of every file read, main file first.
    private(set) var files: [String] = []
    var upstreams: [Upstream] = []
    var fileReferences: [FileReference] = []
    var listenersComplete = true
    var upstreamsComplete = true
    /// Routes (by location) that had decoding errors and may hold placeholder values.
    var incompleteRoutes: Set<SourceLocation> = []
    /// Files being decoded, outermost first, to detect include cycles.
    private var includeStack: [(canonical: String, file: String)] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    func report(_ error: ConfigError) {
        errors.append(error)
    }

    /// Decodes the main conf file and everything it includes.
    func decode(file: String) -> DecodedConfiguration? {
        guard var configuration = decodeRoot(file: file, Configuration.decode) else { return nil }
        for upstream in upstreams where configuration.upstreams[upstream.name] == nil {
            configuration.upstreams[upstream.name] = upstream
        }
        configuration.files = files
        return DecodedConfiguration(
            configuration: configuration,
            upstreams: upstreams,
            fileReferences: fileReferences,
            listenersComplete: listenersComplete,
            upstreamsComplete: upstreamsComplete,
            incompleteRoutes: incompleteRoutes
        )
    }

    /// Reads `file` and decodes its root mapping with `body`; nil after reporting a file
    /// that cannot be read, is not valid YAML, is empty or is not a mapping.
    func decodeRoot<Value>(file: String, _ body: (MappingReader) -> Value) -> Value? {
        let text: String
        switch ConfFile.readText(file) {
        case .success(let contents):
            text = contents
        case .failure(let problem):
            let message = "cannot read file: \(problem.reason)"
            report(ConfigError(.unreadableFile, location: fileLocation(file), message: message))
            return nil
        }
        guard let root = compose(text, file: file) else { return nil }
        guard let root else {
            report(ConfigError(.missingKey, location: fileLocation(file), message: "file is empty"))
            return nil
        }
        includeStack.append((ConfFile.canonical(file), file))
        defer { includeStack.removeLast() }
        return root.mapping(body)
    }

    /// Decodes a `routes:` list, expanding `- include: PATTERN` items in place.
    func routes(_ reader: ConfigReader) -> [Route] {
        let groups = reader.list { item -> [Route]? in
            if case .mapping = item.node, item.node["include"] != nil {
                return include(item)
            }
            let errorCount = errors.count
            guard let route = Route.decode(item) else { return nil }
            if errors.count > errorCount {
                incompleteRoutes.insert(route.location)
            }
            return [route]
        }
        return groups?.flatMap { $0 } ?? []
    }

    /// Decodes an `upstreams:` mapping into `upstreams`.
    func decodeUpstreams(_ reader: ConfigReader) {
        let decoded: Void? = reader.mapping { mapping in
            mapping.forEachEntry { name, value in
                upstreams.append(Upstream.decode(name: name, value))
            }
        }
        if decoded == nil {
            upstreamsComplete = false
        }
    }

    // MARK: Includes

    private func include(_ item: ConfigReader) -> [Route]? {
        item.mapping(unknownKeyHint: "an include item has no other keys") { mapping -> [Route] in
            guard let reader = mapping.required("include"), let pattern = reader.string() else { return [] }
            guard !pattern.isEmpty else {
                reader.fail("expected a file path or glob, got an empty string")
                return []
            }
            let files: [String]
            if ConfFile.hasGlobCharacters(pattern) {
                let directory = ConfFile.directory(of: item.file)
                let absolute = pattern.hasPrefix("/") || directory.isEmpty
                let fullPattern = absolute ? pattern : ConfFile.escapeGlob(directory) + "/" + pattern
                files = ConfFile.glob(ConfFile.normalize(fullPattern))
            } else {
                files = [ConfFile.resolve(pattern, relativeToFileAt: item.file)]
            }
            return files.flatMap { includeFile($0, from: reader) }
        }
    }

    private func includeFile(_ file: String, from reader: ConfigReader) -> [Route] {
        let canonical = ConfFile.canonical(file)
        if let start = includeStack.firstIndex(where: { $0.canonical == canonical }) {
            let chain = includeStack[start...].map(\.file) + [file]
            reader.fail("include cycle: \(chain.joined(separator: " -> "))", code: .includeCycle)
            return []
        }
        let text: String
        switch ConfFile.readText(file) {
        case .success(let contents):
            text = contents
        case .failure(let problem):
            reader.fail("cannot read \(file): \(problem.reason)", code: .unreadableFile)
            upstreamsComplete = false
            return []
        }
        guard let root = compose(text, file: file), let root else { return [] }
        includeStack.append((canonical, file))
        defer { includeStack.removeLast() }
        return root.mapping { mapping -> [Route] in
            if let upstreams = mapping.optional("upstreams") {
                decodeUpstreams(upstreams)
            }
            return mapping.optional("routes").map(routes) ?? []
        } ?? []
    }

    // MARK: YAML

    /// Composes `text` into a reader on its root node: nil after reporting a YAML error,
    /// `.some(nil)` for a file with no document.
    func compose(_ text: String, file: String) -> ConfigReader?? {
        if !files.contains(file) {
            files.append(file)
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { return .some(nil) }
            return ConfigReader(node: node, file: file, line: node.mark?.line ?? 1, path: "", decoder: self)
        } catch {
            report(Self.yamlError(error, file: file, text: text))
            upstreamsComplete = false
            return nil
        }
    }

    private func fileLocation(_ file: String, line: Int = 0) -> SourceLocation {
        SourceLocation(file: file, line: line, keyPath: "")
    }

    static func yamlError(_ error: any Error, file: String, text: String) -> ConfigError {
        func located(_ line: Int, _ message: String) -> ConfigError {
            ConfigError(.invalidYAML, location: SourceLocation(file: file, line: line, keyPath: ""), message: message)
        }
        guard let yamlError = error as? YamlError else {
            return located(0, "invalid YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if context?.text == "expected a single document in the stream" {
                return located(mark.line, "invalid YAML: a conf file holds one document, found a second one")
            }
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            if startsWithTab(text, at: mark) {
                message += "; indent with spaces, not tabs"
            }
            return located(mark.line, message)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in text.prefix(offset).count { $0 == "\n" || $0 == "\r\n" } + 1 } ?? 0
            return located(line, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let second = duplicateLine(of: key, after: first, in: text)
            return located(second ?? first.line, "duplicate key \"\(key)\" (first at line \(first.line))")
        default:
            return located(0, "invalid YAML: \(yamlError)")
        }
    }

    private static func startsWithTab(_ text: String, at mark: Mark) -> Bool {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return false }
        return lines[mark.line - 1].dropFirst(mark.column - 1).first == "\t"
    }

    /// The line where `key` is written again at the same column as its first occurrence,
    /// so a duplicate key error points at the second one (Yams reports the first).
    private static func duplicateLine(of key: String, after first: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let line = lines[index]
            guard line.count >= first.column else { continue }
            let rest = line.dropFirst(first.column - 1)
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelling) {
                if rest.dropFirst(spelling.count).drop(while: { $0 == " " }).hasPrefix(":") {
                    return index + 1
                }
            }
        }
        return nil
    }
}
