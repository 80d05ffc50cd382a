import ArgumentParser
import PortcullisConfig
import PortcullisEdge

/// `portcullis check`: validates the conf files like `nginx -t` and prints the route table;
/// routes whose auth can be sidestepped are warned about on stderr.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and print the route table; exit 1 on errors."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let configuration = try loadConfiguration(options.config)
        let snapshot: EdgeSnapshot
        do {
            snapshot = try EdgeSnapshot(configuration: configuration)
        } catch {
            printError("\(options.config): \(error)")
            throw ExitCode(1)
        }
        // Warnings, not errors: a public fallback may be intended, so the file stays valid.
        for warning in snapshot.routeAuthWarnings {
            printError(warning.warningLine)
        }
        print(RouteTablePrinter.describe(configuration))
        print("configuration OK: \(configuration.files.joined(separator: ", "))")
    }
}

/// Loads and validates, printing every error as `file:line: key: message` and exiting 1.
func loadConfiguration(_ path: String) throws -> Configuration {
    do {
        return try ConfigLoader.load(file: path)
    } catch let errors as ConfigErrors {
        for error in errors.errors { printError(error.description) }
        throw ExitCode(1)
    } catch {
        printError("\(path): \(error)")
        throw ExitCode(1)
    }
}
