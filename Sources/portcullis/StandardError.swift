#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one line to standard error (errors for operators, not log records).
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { pointer in write(2, pointer, strlen(pointer)) }
}
