import Foundation

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// File system helpers for loading conf files: resolving paths written in a conf file,
/// reading files with POSIX error reasons, and expanding include globs.
///
/// Paths keep the form the user gave (relative paths stay relative to the working
/// directory) so error messages show `conf/routes.d/api.yaml`, not an absolute path.
enum ConfFile {
    struct Problem: Error {
        /// A lower-case reason such as `no such file or directory`.
        var reason: String
    }

    /// The directory part of `path`: `conf` for `conf/a.yaml`, empty for `a.yaml`.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` as seen from the directory of the conf file at `file`; absolute paths are kept.
    static func resolve(_ path: String, relativeToFileAt file: String) -> String {
        if path.hasPrefix("/") {
            return normalize(path)
        }
        let directory = directory(of: file)
        return normalize(directory.isEmpty ? path : "\(directory)/\(path)")
    }

    /// Removes `.` components, empty components and `name/..` pairs, lexically.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var components: [Substring] = []
        for component in path.split(separator: "/") {
            switch component {
            case ".":
                continue
            case "..":
                if let last = components.last, last != ".." {
                    components.removeLast()
                } else if !absolute {
                    components.append(component)
                }
            default:
                components.append(component)
            }
        }
        let joined = components.joined(separator: "/")
        if absolute {
            return "/" + joined
        }
        return joined.isEmpty ? "." : joined
    }

    /// The path with symbolic links resolved, used to recognise the same file reached
    /// through different paths (include cycles).
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else {
            return normalize(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func readText(_ path: String) -> Result<String, Problem> {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return .failure(Problem(reason: errnoReason())) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            return .failure(Problem(reason: "is a directory"))
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Problem(reason: errnoReason()))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        guard let text = String(data: Data(bytes), encoding: .utf8) else {
            return .failure(Problem(reason: "not valid UTF-8"))
        }
        return .success(text)
    }

    /// Why `path` is not an existing regular file, or nil when it is one. Permission is
    /// not checked: `portcullis check` may run as a user who cannot read the keys the
    /// server can.
    static func missingFileReason(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == EACCES ? nil : errnoReason()
        }
        return (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : nil
    }

    static func hasGlobCharacters(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// `text` with glob metacharacters escaped, to prefix a pattern with a literal directory.
    static func escapeGlob(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) {
                escaped.append("\\")
            }
            escaped.append(character)
        }
        return escaped
    }

    /// Paths matching a glob pattern, sorted; empty when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glob.run(pattern, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[index] {
                paths.append(String(cString: path))
            }
        }
        return paths.sorted()
    }

    private static func errnoReason() -> String {
        let reason = String(cString: strerror(errno))
        return reason.prefix(1).lowercased() + reason.dropFirst()
    }
}

/// Disambiguates the C `glob` function from `ConfFile.glob`.
private enum Glob {
    static func run(_ pattern: String, _ result: inout glob_t) -> Int32 {
        #if canImport(Darwin)
            return Darwin.glob(pattern, 0, nil, &result)
        #elseif canImport(Glibc)
            return Glibc.glob(pattern, 0, nil, &result)
        #else
            return Musl.glob(pattern, 0, nil, &result)
        #endif
    }
}
