import ArgumentParser

/// Placeholder entry point; the load generator lands with scripts/bench/ws.
@main
struct PortcullisBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "portcullis-bench")
}
