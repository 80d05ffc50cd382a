import ArgumentParser
import NIOCore

/// A `ws://host:port/path` URL on loopback: where a load generator connects.
///
/// Plain `ws` only (TLS would measure the cipher, not the edge), and only 127.0.0.0/8 or
/// `localhost`, following the measuring rules: benchmark traffic never leaves the machine.
struct WebSocketURL: Sendable, ExpressibleByArgument, CustomStringConvertible {
    let host: String
    let port: Int
    /// Path and query, as sent in the request line.
    let target: String

    init?(argument: String) {
        guard argument.hasPrefix("ws://") else { return nil }
        let rest = argument.dropFirst("ws://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let target = rest[slash...]
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(authority[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4, octets[0] == 127 else { return nil }
        self.host = host
        self.port = port
        self.target = target.isEmpty ? "/" : String(target)
    }

    var description: String { "ws://\(self.host):\(self.port)\(self.target)" }

    var hostHeader: String { "\(self.host):\(self.port)" }

    func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: self.host, port: self.port)
    }
}
