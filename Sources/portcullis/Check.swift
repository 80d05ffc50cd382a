import ArgumentParser
import PortcullisConfig
import PortcullisEdge

/// `portcullis check`: validates the conf files like `nginx -t` and prints the route table.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and print the route table; exit 1 on errors."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let configuration = try loadConfiguration(options.config)
        do {
            _ = try EdgeSnapshot(configuration: configuration)
        } catch {
            printError("\(options.config): \(error)")
            throw ExitCode(1)
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
