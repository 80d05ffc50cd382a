import ArgumentParser

/// Where and how a client subcommand opens its WebSocket connections.
struct ClientOptions: ParsableArguments {
    @Option(help: "The WebSocket URL, on loopback (e.g. ws://127.0.0.1:8080/ws/echo).")
    var url: WebSocketURL

    @Option(help: "Source addresses to spread client sockets over (range, list, or 'none').")
    var sourceAddresses: SourceAddresses = SourceAddresses(argument: "127.0.0.2-127.0.0.40")!

    @Option(help: "New connections per second while ramping up (e.g. 500/s).")
    var ramp: RampRate = RampRate(argument: "500/s")!

    @Flag(
        help: """
            Offer permessage-deflate (as browsers do); when the server accepts, messages are sent \
            compressed and compressed answers inflated.
            """
    )
    var deflate = false

    @Option(help: "Most handshakes in flight at once.")
    var maxPending: Int = 256

    @Option(help: "Seconds a connect plus handshake may take before it counts as failed.")
    var handshakeTimeout: Int = 10

    @Option(
        help: "Failed connection attempts tolerated per ramp before giving up (default: 1% of the target, at least 10)."
    )
    var maxFailures: Int?

    func validate() throws {
        guard self.maxPending > 0 else { throw ValidationError("--max-pending must be positive") }
        guard (1...300).contains(self.handshakeTimeout) else {
            throw ValidationError("--handshake-timeout must be 1…300 seconds")
        }
        if let maxFailures = self.maxFailures, maxFailures < 0 {
            throw ValidationError("--max-failures must not be negative")
        }
    }
}
