import ArgumentParser
import PortcullisConfig
import PortcullisEdge

/// `portcullis reload`: asks the running edge (through its admin listener) to reload its
/// conf files, certificates and keys; prints the edge's answer.
struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload a running edge's configuration, certificates and keys; exit 1 if refused."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try loadConfiguration(options.config)
        let response: AdminClient.Response
        do {
            response = try await AdminClient.post("/reload", to: configuration.admin.address)
        } catch {
            printError("cannot reach the admin listener at \(configuration.admin.address): \(error)")
            throw ExitCode(1)
        }
        if response.status == 200 {
            print(response.body, terminator: "")
        } else {
            printError("reload refused (HTTP \(response.status)):")
            printError(response.body)
            throw ExitCode(1)
        }
    }
}
