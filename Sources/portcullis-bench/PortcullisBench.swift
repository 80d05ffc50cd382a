import ArgumentParser

/// The WebSocket load generator and broadcast floor behind scripts/bench/ws.
///
/// Every subcommand prints JSON lines on stdout (what a driver parses) and notes on stderr.
@main
struct PortcullisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis-bench",
        abstract: "WebSocket load generator and reference servers for scripts/bench/ws.",
        subcommands: [
            HoldCommand.self, BroadcastCommand.self, EchoCommand.self, FloorServerCommand.self, RelayFloorCommand.self,
            VerifyCommand.self,
        ]
    )
}
