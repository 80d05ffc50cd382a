import ArgumentParser
import PortcullisConfig

/// The rooms worker. Only `--version` exists until the bus and the handlers land.
@main
struct PortcullisRoomsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis-rooms",
        abstract: "Room handlers for Portcullis (not yet implemented: prints its version).",
        version: "portcullis-rooms \(PortcullisVersion.current)"
    )

    func run() {
        print("portcullis-rooms \(PortcullisVersion.current)")
    }
}
