import Dispatch
import Foundation

#if canImport(Darwin)
    import Darwin
#else
    import Glibc
#endif

/// Commands for a long-running subcommand: lines from stdin, then `quit` on end of input
/// or on SIGINT/SIGTERM/SIGHUP.
///
/// A driver script steps a held load up (`target 5000`) and asks for measurements
/// (`measure 20`) over a pipe; when the driver dies, the pipe closes and the load generator
/// closes its connections and exits instead of holding them forever.
enum ControlInput {
    static func commands(readStdin: Bool) -> AsyncStream<[String]> {
        AsyncStream { continuation in
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { continuation.yield(["quit"]) }
                source.resume()
                SignalSources.keep(source)
            }
            guard readStdin else { return }
            let thread = Thread {
                while let line = readLine() {
                    let words = line.split(separator: " ").map(String.init)
                    if !words.isEmpty { continuation.yield(words) }
                }
                continuation.yield(["quit"])
            }
            thread.start()
        }
    }
}

/// Keeps the dispatch signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let lock = NSLock()

    static func keep(_ source: any DispatchSourceSignal) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.sources.append(source)
    }
}
