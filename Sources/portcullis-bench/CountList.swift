import ArgumentParser

/// A comma-separated list of connection counts, e.g. `1000,10000,19000`.
struct CountList: Sendable, ExpressibleByArgument {
    let counts: [Int]

    init?(argument: String) {
        let counts = argument.split(separator: ",").map { Int($0.trimmingPrefix(" ")) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        self.counts = counts.compactMap { $0 }
    }
}
