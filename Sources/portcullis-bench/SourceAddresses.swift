import ArgumentParser
import NIOCore

/// The loopback addresses client sockets bind to before connecting, taken in turn.
///
/// One source address has about 28,000 ephemeral ports toward one server port, and closed
/// sockets linger in TIME_WAIT: spreading 19,000 connections over 127.0.0.2…127.0.0.40
/// keeps every address far from running out. Only 127.0.0.0/8 is accepted, so a load
/// generator can never be pointed at a real network by mistake.
struct SourceAddresses: Sendable, ExpressibleByArgument {
    let addresses: [String]

    /// `127.0.0.2-127.0.0.40`, `127.0.0.2,127.0.0.3`, one address, or `none` (let the kernel choose).
    init?(argument: String) {
        if argument == "none" {
            self.addresses = []
            return
        }
        var addresses: [String] = []
        for part in argument.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                let first = Self.loopbackOctets(bounds[0]),
                let last = Self.loopbackOctets(bounds[bounds.count - 1]),
                first[0...2] == last[0...2], first[3] <= last[3]
            else { return nil }
            for host in first[3]...last[3] {
                addresses.append("\(first[0]).\(first[1]).\(first[2]).\(host)")
            }
        }
        guard !addresses.isEmpty else { return nil }
        self.addresses = addresses
    }

    /// The address for the `index`-th connection (round robin), or nil to let the kernel pick.
    func address(for index: Int) throws -> SocketAddress? {
        guard !self.addresses.isEmpty else { return nil }
        return try SocketAddress(ipAddress: self.addresses[index % self.addresses.count], port: 0)
    }

    private static func loopbackOctets(_ text: Substring) -> [Int]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard octets.count == 4, octets[0] == 127, octets.allSatisfy({ (0...255).contains($0) }),
            octets[3] > 0, octets[3] < 255
        else { return nil }
        return octets
    }
}
