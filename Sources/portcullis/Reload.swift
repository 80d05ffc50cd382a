import ArgumentParser
import PortcullisConfig
import PortcullisEdge

/// `portcullis reload`: asks the running edge (through its admin listener) to reload its
/// conf files, certificates and keys; prints the edge's answer.
///
/// The admin address comes from `--admin`, else from the conf file. A conf file that does
/// not validate cannot name it, so without `--admin` the errors are printed and nothing is
/// sent: the running edge keeps its configuration either way. An admin listener with
/// `admin.tls` is spoken to over TLS when its address comes from the conf file; `--admin`
/// speaks plain HTTP.
struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload a running edge's configuration, certificates and keys; exit 1 if refused."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The edge's admin address (host:port); default: admin.address from the conf file.")
    var admin: String?

    func validate() throws {
        if let admin, ConfigValue.hostPort(admin) == nil {
            throw ValidationError("--admin must be host:port, got \"\(admin)\"")
        }
    }

    func run() async throws {
        let address: HostPort
        var tls: TLSSettings?
        if let admin, let given = ConfigValue.hostPort(admin) {
            address = given
        } else {
            let settings = try loadConfiguration(options.config).admin
            address = settings.address
            tls = settings.tls
        }
        let response: AdminClient.Response
        do {
            response = try await AdminClient.post("/reload", to: address, tls: tls)
        } catch {
            printError("cannot reach the admin listener at \(address): \(error)")
            throw ExitCode(1)
        }
        if response.status == 200 {
            print(response.body, terminator: "")
        } else {
            printError("reload refused by the edge (HTTP \(response.status)); it keeps its running configuration:")
            printError(response.body)
            throw ExitCode(1)
        }
    }
}
