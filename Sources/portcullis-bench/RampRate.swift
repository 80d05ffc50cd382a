import ArgumentParser

/// New connections per second while ramping up (`500/s` or `500`).
///
/// Opening thousands of sockets at once overflows the server's accept backlog and turns
/// the handshake into a SYN-retry lottery; a steady ramp (≤ 500/s on these machines) keeps
/// every connection attempt meaningful.
struct RampRate: Sendable, ExpressibleByArgument {
    let perSecond: Double

    init?(argument: String) {
        let number = argument.hasSuffix("/s") ? String(argument.dropLast(2)) : argument
        guard let value = Double(number), value > 0, value <= 100_000 else { return nil }
        self.perSecond = value
    }
}
