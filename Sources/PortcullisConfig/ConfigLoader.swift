import Foundation

/// Loads a configuration from conf files: reads the main file and its includes, decodes
/// them (types and per-key syntax), then validates cross-references (unknown upstreams
/// and listeners, duplicate names and addresses, missing certificate files).
///
/// Nothing is returned unless the whole configuration is valid; otherwise every error
/// found is thrown at once, sorted by file (main file first) and line. Loading does
/// blocking file I/O: call it at startup or from a reload task, not on an event loop.
public enum ConfigLoader {
    /// Reads, decodes and validates `file`; throws `ConfigErrors` with every error found.
    ///
    /// - Parameters:
    ///   - file: Path of the main conf file; relative paths inside conf files resolve
    ///     against the directory of the file that contains them.
    ///   - environment: Variables for `${VAR}` expansion.
    public static func load(
        file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Configuration {
        let decoder = ConfigDecoder(environment: environment)
        let decoded = decoder.decode(file: file)
        var errors = decoder.errors
        if let decoded {
            errors += ConfigValidator(decoded: decoded).validate()
        }
        guard errors.isEmpty, let decoded else {
            throw ConfigErrors(sorted(errors, files: decoder.files))
        }
        return decoded.configuration
    }

    /// Reads and decodes a conf file of another schema (the rooms worker's) with the edge's
    /// reader: the same `${VAR}` expansion, value syntaxes, unknown-key and did-you-mean
    /// errors, and `file:line: key: message` format. There are no includes and no
    /// validate pass: `decode` reports cross-key mistakes itself, through the readers.
    ///
    /// Returns what `decode` made of the root mapping only when nothing was reported;
    /// otherwise throws every error, sorted by line.
    public static func load<Value>(
        file: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        decode: (MappingReader) -> Value
    ) throws(ConfigErrors) -> Value {
        let decoder = ConfigDecoder(environment: environment)
        let value = decoder.decodeRoot(file: file, decode)
        guard decoder.errors.isEmpty, let value else {
            throw ConfigErrors(sorted(decoder.errors, files: decoder.files))
        }
        return value
    }

    /// Orders errors by the position of their file in load order, then by line; errors
    /// on the same line keep the order they were found in.
    private static func sorted(_ errors: [ConfigError], files: [String]) -> [ConfigError] {
        func key(_ error: ConfigError) -> (Int, Int) {
            guard let location = error.location else { return (-1, 0) }
            return (files.firstIndex(of: location.file) ?? files.count, location.line)
        }
        return errors.enumerated()
            .sorted { lhs, rhs in
                let (left, right) = (key(lhs.element), key(rhs.element))
                return left != right ? left < right : lhs.offset < rhs.offset
            }
            .map(\.element)
    }
}
