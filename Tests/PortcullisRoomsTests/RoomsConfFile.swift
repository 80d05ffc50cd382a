import Foundation
import PortcullisRooms
import Testing

/// A `rooms.yaml` written to a temporary directory for one test, removed when the test ends.
/// Errors come back as `check` prints them, with the directory left out
/// (`rooms.yaml:3: worker.claim_idle: …`).
final class RoomsConfFile {
    static let builtInApps = Set(RoomsApps.builtIn.keys)

    let directory: String
    let path: String

    init(_ yaml: String) throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-rooms-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = "\(directory)/rooms.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func load(environment: [String: String] = [:]) throws -> RoomsSettings {
        try RoomsSettings.load(file: path, knownApps: Self.builtInApps, environment: environment)
    }

    /// Loads the file expecting it to fail; returns every error line.
    func errors(environment: [String: String] = [:]) -> [String] {
        do {
            _ = try load(environment: environment)
            Issue.record("rooms.yaml loaded without errors")
            return []
        } catch {
            return "\(error)".split(separator: "\n").map { line in
                line.hasPrefix(directory + "/") ? String(line.dropFirst(directory.count + 1)) : String(line)
            }
        }
    }
}
