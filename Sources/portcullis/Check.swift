import ArgumentParser
import Foundation
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
            printError(EdgeSnapshot.describe(error, configPath: options.config))
            throw ExitCode(1)
        }
        // Warnings, not errors: a public fallback may be intended, so the file stays valid.
        for warning in snapshot.routeAuthWarnings {
            printError(warning.warningLine)
        }
        print(RouteTablePrinter.describe(configuration))
        if !snapshot.keySummary.isEmpty {
            print("")
            snapshot.keySummary.forEach { print($0) }
        }
        print("configuration OK: \(configuration.files.joined(separator: ", "))")
    }
}

/// Loads and validates, printing every error as `file:line: key: message` and exiting 1.
func loadConfiguration(_ path: String) throws -> Configuration {
    do {
        return try ConfigLoader.load(file: path)
    } catch let errors as ConfigErrors {
        for error in errors.errors {
            printError(error.description + (EnvironmentHint.hint(for: error).map { " (\($0))" } ?? ""))
        }
        throw ExitCode(1)
    } catch {
        printError("\(path): \(error)")
        throw ExitCode(1)
    }
}

/// Why a file named through `${VAR:-default}` was not found: the conf line's variables and
/// whether they are set. `conf/portcullis.yaml` reads its certificates from
/// `${PORTCULLIS_TLS_DIR:-/etc/portcullis/tls}`, and a first `check` on a laptop fails on
/// the default directory; the hint names the variable that fixes it.
enum EnvironmentHint {
    static func hint(
        for error: ConfigError, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        guard error.code == .missingFile, let location = error.location,
            let text = try? String(contentsOfFile: location.file, encoding: .utf8)
        else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.indices.contains(location.line - 1) else { return nil }
        let names = Self.variables(in: String(lines[location.line - 1]))
        guard !names.isEmpty else { return nil }
        return names.map { name in
            if let value = environment[name] {
                return "the path uses ${\(name)}, set to \(value)"
            }
            return "the path uses ${\(name)}, which is not set: set it to the directory that holds the file"
        }.joined(separator: "; ")
    }

    /// The names of the `${NAME}` and `${NAME:-default}` references in `line`, in order.
    static func variables(in line: String) -> [String] {
        var names: [String] = []
        var rest = line[...]
        while let start = rest.range(of: "${") {
            let name = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty, !names.contains(String(name)) { names.append(String(name)) }
            rest = rest[start.upperBound...]
        }
        return names
    }
}
