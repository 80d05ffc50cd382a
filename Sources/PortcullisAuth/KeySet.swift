/// The verification keys one configuration snapshot trusts: looked up by `kid`, or by
/// algorithm for tokens without one. Built once off the event loop (`load`), then shared
/// immutable by every connection; a reload builds a new set and swaps it in, so keys are
/// never added to or removed from a set in use.
///
/// `generation` is unique per set, so a token cache never serves a token that a
/// previous set (perhaps with a since-retired key) verified.
public final class KeySet: Sendable {
    /// What `keys list` and the admin API show about a key; never material.
    public struct Entry: Sendable, Hashable {
        public var keyID: String?
        public var algorithm: JWTAlgorithm
        public var isDefault: Bool
        public var file: String
    }

    private let byID: [String: VerificationKey]
    private let defaults: [JWTAlgorithm: VerificationKey]
    private let algorithms: Set<JWTAlgorithm>
    public let entries: [Entry]
    /// Keys skipped while loading (encryption keys, unsupported algorithms), one line
    /// each, for the loader to log.
    public let warnings: [String]
    public let generation: UInt64

    /// A set with no keys: every token fails with `unknown_kid` or `alg_not_allowed`.
    public static let empty = try! KeySet(keys: [])

    init(keys: [VerificationKey], warnings: [String] = []) throws(KeySetError) {
        var byID: [String: VerificationKey] = [:]
        var defaults: [JWTAlgorithm: VerificationKey] = [:]
        for key in keys {
            if let keyID = key.keyID {
                if let existing = byID[keyID] {
                    throw KeySetError(
                        .duplicateKeyID, file: key.file, keyID: keyID,
                        message: "kid already used by a key in \(existing.file)")
                }
                byID[keyID] = key
            }
            if key.isDefault {
                if let existing = defaults[key.algorithm] {
                    throw KeySetError(
                        .conflictingDefault, file: key.file, keyID: key.keyID,
                        message: "a second default key for \(key.algorithm) (the first is in \(existing.file)); "
                            + "mark one key per algorithm as default")
                }
                defaults[key.algorithm] = key
            }
            if key.keyID == nil, !key.isDefault {
                throw KeySetError(
                    .conflictingDefault, file: key.file,
                    message: "a key without kid is only usable as the default; mark it default or give it a kid")
            }
        }
        self.byID = byID
        self.defaults = defaults
        self.algorithms = Set(keys.map(\.algorithm))
        self.entries = keys.map {
            Entry(keyID: $0.keyID, algorithm: $0.algorithm, isDefault: $0.isDefault, file: $0.file)
        }
        self.warnings = warnings
        self.generation = KeySetGeneration.next()
    }

    public var count: Int { entries.count }

    /// The key a token's `kid` names.
    func key(id: String) -> VerificationKey? {
        byID[id]
    }

    /// The key for tokens of `algorithm` that carry no `kid`.
    func defaultKey(for algorithm: JWTAlgorithm) -> VerificationKey? {
        defaults[algorithm]
    }

    /// Whether any key is pinned to `algorithm`.
    func allows(_ algorithm: JWTAlgorithm) -> Bool {
        algorithms.contains(algorithm)
    }
}

/// Hands out key-set generations; process-wide and monotonic.
private enum KeySetGeneration {
    private static let lock = Lock()
    nonisolated(unsafe) private static var last: UInt64 = 0

    static func next() -> UInt64 {
        lock.withLock {
            last += 1
            return last
        }
    }
}
