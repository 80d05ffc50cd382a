#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and atomic writes for key material. POSIX only, so the module needs
/// no Foundation. Errors carry `strerror` text and never file contents.
enum FileIO {
    /// Files larger than this are refused: key files are small, and a mistaken path to a
    /// log or a device must not be read into memory.
    static let maximumSize = 1 << 20

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func contents(of path: String) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: lastError()) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: lastError())
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize {
                throw Failure(description: "larger than \(maximumSize) bytes")
            }
        }
        return bytes
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Writes `bytes` to a temporary file beside `path` with `mode`, then renames it over
    /// `path`, so readers (a reloading edge) see either the old or the new file. With
    /// `exclusive`, an existing `path` is an error (never overwrite a private key).
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t, exclusive: Bool = false)
        throws(Failure)
    {
        if exclusive, exists(path) {
            throw Failure(description: "already exists")
        }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: lastError()) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let problem = lastError()
                close(descriptor)
                unlink(temporary)
                throw Failure(description: problem)
            }
            written += count
        }
        // The umask may have narrowed `mode`; never widened, but make it exact.
        fchmod(descriptor, mode)
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            let problem = lastError()
            unlink(temporary)
            throw Failure(description: problem)
        }
        if exclusive {
            // link(2) fails if `path` appeared meanwhile, unlike rename(2).
            guard link(temporary, path) == 0 else {
                let problem = lastError()
                unlink(temporary)
                throw Failure(description: problem)
            }
            unlink(temporary)
        } else {
            guard rename(temporary, path) == 0 else {
                let problem = lastError()
                unlink(temporary)
                throw Failure(description: problem)
            }
        }
    }

    /// The permission bits of an existing file, or nil.
    static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
