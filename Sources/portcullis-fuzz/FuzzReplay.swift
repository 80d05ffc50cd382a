#if !FUZZING
    import Foundation

    /// The plain build's `main`: replays inputs through the fuzz entry point without
    /// libFuzzer, so a corpus or a crash reproducer can be checked (and debugged) with a
    /// normal `swift build`. In the fuzzing build libFuzzer supplies `main` instead.
    ///
    /// Usage: `portcullis-fuzz PATH...`, each PATH a file or a folder of files (a corpus).
    @main
    struct FuzzReplay {
        static func main() throws {
            let paths = CommandLine.arguments.dropFirst()
            guard !paths.isEmpty else {
                print("usage: portcullis-fuzz FILE_OR_FOLDER...   (replays inputs; build with -DFUZZING to fuzz)")
                return
            }
            var count = 0
            for path in paths {
                for file in try files(at: path) {
                    let input = try Data(contentsOf: URL(fileURLWithPath: file))
                    input.withUnsafeBytes { bytes in
                        _ = fuzzOneInput(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
                    }
                    count += 1
                }
            }
            print("ran \(count) inputs")
        }

        /// `path` itself, or the regular files directly inside it when it is a folder.
        private static func files(at path: String) throws -> [String] {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            guard isFolder.boolValue else { return [path] }
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
        }
    }
#endif
