import ArgumentParser
import NIOCore

/// `portcullis-bench hold`: opens N idle connections and holds them, for memory per
/// connection; idle once past their protocol's handshake (`--protocol`: raw open, Socket.IO
/// connected to `/`, ActionCable welcomed and, with `--cable-identifier`, subscribed).
/// Prints `progress` lines while ramping and `ready` when N are open; then reads commands
/// from stdin (`target N` to ramp up or close down to N, `stats`), and closes everything on
/// end of input, `quit`, or SIGINT/SIGTERM.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Open and hold idle WebSocket connections until stdin closes or a signal."
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var wire: ProtocolOptions

    @Option(help: "Connections to open at start (more with `target N` on stdin).")
    var connections: Int = 1000

    func validate() throws {
        guard self.connections >= 0 else { throw ValidationError("--connections must not be negative") }
        try self.wire.check(url: self.client.url)
    }

    func run() async throws {
        let fdLimit = FileDescriptorLimit.raiseToHardLimit()
        JSONLines.emit(StartLine(type: "started", command: "hold", url: "\(self.client.url)", fdLimit: fdLimit))
        let load = try await ClientLoad.start(options: self.client, wireProtocol: self.wire.clientProtocol) { _ in
            IdleConnections()
        }
        let commands = ControlInput.commands(readStdin: true)
        JSONLines.emit(try await load.resize(to: self.connections))
        try await load.serveCommands(commands)
        let final = try await load.report(type: "done")
        await load.shutdown()
        JSONLines.emit(final)
    }
}
