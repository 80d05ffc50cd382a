#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sd_notify protocol without libsystemd: datagrams of `KEY=value` lines sent to the
/// Unix socket systemd names in `$NOTIFY_SOCKET` (a path, or `@name` in the abstract
/// namespace). A service of `Type=notify` tells systemd when it is ready (`READY=1`, after
/// its listeners are bound), reloading (`RELOADING=1` with `MONOTONIC_USEC`, then
/// `READY=1`), stopping (`STOPPING=1`), and alive (`WATCHDOG=1`, when `WatchdogSec=` is set).
///
/// Sending never blocks and never fails the caller: a notification systemd misses is
/// logged by systemd's own timeouts, not worth stopping a server for.
public struct SystemdNotifier: Sendable {
    /// The socket address as `$NOTIFY_SOCKET` gives it.
    public let socketPath: String
    /// Half of `$WATCHDOG_USEC` (systemd's advice), when the watchdog is meant for this
    /// process (`$WATCHDOG_PID` absent or ours).
    public let watchdogInterval: Duration?

    /// The notifier systemd asked for through the environment; nil when not run by systemd
    /// as a notify service.
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty,
            path.hasPrefix("/") || path.hasPrefix("@"), path.utf8.count < 108
        else { return nil }
        self.socketPath = path
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0,
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true
        {
            self.watchdogInterval = .microseconds(microseconds / 2)
        } else {
            self.watchdogInterval = nil
        }
    }

    /// The notifier of this process's environment.
    public static func fromProcessEnvironment() -> SystemdNotifier? {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return SystemdNotifier(environment: environment)
    }

    /// `READY=1`, with a human-readable `STATUS=`.
    public func ready(status: String) {
        self.send("READY=1\nSTATUS=\(status)")
    }

    /// `RELOADING=1` and the `CLOCK_MONOTONIC` time systemd uses to match the reload.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        self.send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    public func stopping() {
        self.send("STOPPING=1")
    }

    public func watchdog() {
        self.send("WATCHDOG=1")
    }

    /// Sends one datagram.
    public func send(_ message: String) {
        #if canImport(Glibc)
            let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(self.socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
        }
        // An abstract address is exactly as long as its name; a path ends at its NUL.
        let length =
            MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { payload in
                    sendto(
                        descriptor, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL), socketAddress,
                        socklen_t(length))
                }
            }
        }
    }
}
