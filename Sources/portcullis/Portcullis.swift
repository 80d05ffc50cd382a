import ArgumentParser
import PortcullisConfig

/// The edge's command line: `serve`, `check`, `version` (and `--version`, as
/// `portcullis-rooms` has it).
@main
struct Portcullis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis",
        abstract: "An edge for real-time products: TLS, reverse proxy, authentication, WebSockets.",
        version: "portcullis \(PortcullisVersion.current)",
        subcommands: [
            Serve.self, Check.self, Reload.self, Revoke.self, TokenCommand.self, KeysCommand.self, SecretCommand.self,
            Version.self,
        ]
    )
}

/// Options every command that reads the conf file shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path of the main conf file.")
    var config: String = "/etc/portcullis/portcullis.yaml"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("portcullis \(PortcullisVersion.current)")
    }
}
