import ArgumentParser
import Foundation
import PortcullisAuth

/// `portcullis-bench verify`: the CPU cost of one JWT verification, without the network.
///
/// Mints `--tokens` distinct tokens per algorithm (a fresh key each run), then times
/// `JWTVerifier.verify` over them: `distinct` without a cache (every call verifies the
/// signature), `cached` with a token cache and one repeated token (the path a reconnecting
/// client takes). Prints one `verify` line per algorithm and series with µs per call, so
/// the verifier's own cost can be set beside what scripts/bench/auth measures end to end.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Time JWT verification (HS256, RS256, ES256) in-process: distinct tokens and a cached one."
    )

    @Option(help: "Comma-separated algorithms.")
    var algs = "hs256,rs256,es256"

    @Option(help: "Distinct tokens per algorithm.")
    var tokens = 2000

    @Option(help: "Timed passes over the token pool per series.")
    var passes = 5

    struct Line: Encodable {
        var type = "verify"
        var alg: String
        var series: String
        var calls: Int
        var usPerCall: Double
        var cpuUsPerCall: Double
    }

    func validate() throws {
        guard self.tokens > 0, self.passes > 0 else { throw ValidationError("--tokens and --passes must be positive") }
    }

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "portcullis-bench-verify-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in self.algs.split(separator: ",") {
            guard let algorithm = JWTAlgorithm(name: name.uppercased()) else {
                throw ValidationError("unknown algorithm \(name)")
            }
            let fixture = try VerifyFixture(algorithm: algorithm, tokens: self.tokens, directory: directory)
            let now = Date().timeIntervalSince1970
            let uncached = JWTVerifier(keys: fixture.keys)
            JSONLines.emit(self.time(algorithm, "distinct", fixture.tokens) { uncached.verify($0, now: now) })
            let cached = JWTVerifier(keys: fixture.keys, cache: TokenCache())
            let repeated = Array(repeating: fixture.tokens[0], count: fixture.tokens.count)
            JSONLines.emit(self.time(algorithm, "cached", repeated) { cached.verify($0, now: now) })
        }
    }

    private func time(
        _ algorithm: JWTAlgorithm, _ series: String, _ pool: [String],
        _ verify: (String) -> Result<Identity, AuthFailure>
    ) -> Line {
        for token in pool.prefix(200) {
            if case .failure(let failure) = verify(token) { fatalError("\(algorithm) token refused: \(failure)") }
        }
        let cpuStart = ProcessCPU.seconds()
        let start = DispatchTime.now().uptimeNanoseconds
        var refused = 0
        for _ in 0..<self.passes {
            for token in pool {
                if case .failure = verify(token) { refused += 1 }
            }
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
        let cpu = (ProcessCPU.seconds() - cpuStart) * 1e6
        precondition(refused == 0, "\(refused) tokens refused")
        let calls = self.passes * pool.count
        return Line(
            alg: algorithm.name, series: series, calls: calls, usPerCall: wall / Double(calls),
            cpuUsPerCall: cpu / Double(calls))
    }
}

/// A fresh key of one algorithm written as the edge would read it, and tokens signed by it.
struct VerifyFixture {
    let keys: KeySet
    let tokens: [String]

    init(algorithm: JWTAlgorithm, tokens count: Int, directory: URL) throws {
        let generated = try KeyGenerator.generate(algorithm, keyID: "bench-\(algorithm.name.lowercased())")
        let source: KeySource
        if let jwk = generated.publicJWK {
            let file = directory.appendingPathComponent("\(generated.keyID).jwks")
            try Data("{\"keys\":[\(jwk)]}".utf8).write(to: file)
            source = KeySource(kind: .jwks, path: file.path)
        } else {
            let file = directory.appendingPathComponent("\(generated.keyID).secret")
            try Data(generated.privateMaterial).write(to: file)
            source = KeySource(kind: .secret, path: file.path, algorithm: algorithm, keyID: generated.keyID)
        }
        self.keys = try KeySet.load([source])
        let privateFile = directory.appendingPathComponent("\(generated.keyID).private")
        try Data(generated.privateMaterial).write(to: privateFile)
        let minter = try TokenMinter(algorithm: algorithm, keyFile: privateFile.path)
        let now = Int64(Date().timeIntervalSince1970)
        self.tokens = try (0..<count).map { index in
            let claims = TokenClaims(
                subject: "user-\(index)", scopes: ["read"], issuedAt: now, expiresAt: now + 3600,
                tokenId: "jti-\(index)")
            return try minter.mint(claims, keyID: generated.keyID)
        }
    }
}
