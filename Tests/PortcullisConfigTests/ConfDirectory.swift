import Foundation
import PortcullisConfig
import Testing

/// A temporary directory of conf files for one test, removed when the test ends.
final class ConfDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-conf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The absolute path of `relative` inside this directory.
    func path(_ relative: String) -> String {
        "\(path)/\(relative)"
    }

    /// Writes `contents` to `relative`, creating directories; returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ contents: String) throws -> String {
        let file = path(relative)
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Loads `relative` expecting it to fail; returns each error's description.
    func errors(loading relative: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try ConfigLoader.load(file: path(relative), environment: environment)
            Issue.record("\(relative) loaded without errors")
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            Issue.record("unexpected error type: \(error)")
            return []
        }
    }

    func load(_ relative: String, environment: [String: String] = [:]) throws -> Configuration {
        try ConfigLoader.load(file: path(relative), environment: environment)
    }
}

/// The repository's `conf/` directory, found from this file's real location (the test
/// directory may be reached through a symbolic link).
func repositoryConfPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath)
        .resolvingSymlinksInPath()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("conf")
        .appendingPathComponent(relative)
        .path
}
