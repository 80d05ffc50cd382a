/// A key source that could not be loaded, naming the file and, inside a JWKS, the key
/// by index and `kid`: `keys/jwks.json: key 2 (kid "2024-05"): alg "RS256" needs kty RSA`.
/// Never contains key material.
public struct KeySetError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unreadableFile = "unreadable file"
            case invalidFile = "invalid file"
            case invalidKey = "invalid key"
            case weakKey = "weak key"
            case missingAlgorithm = "missing algorithm"
            case duplicateKeyID = "duplicate kid"
            case conflictingDefault = "conflicting default"
            case noUsableKeys = "no usable keys"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The file could not be opened or read.
        public static let unreadableFile = Code(.unreadableFile)
        /// Not JSON / not a JWK Set / not a PEM public key / empty secret.
        public static let invalidFile = Code(.invalidFile)
        /// A key's members are wrong: kty and alg disagree, bad base64url, bad point.
        public static let invalidKey = Code(.invalidKey)
        /// RSA below 2048 bits, or an HMAC secret shorter than its hash.
        public static let weakKey = Code(.weakKey)
        /// Neither the key nor its source says which algorithm the key is for.
        public static let missingAlgorithm = Code(.missingAlgorithm)
        /// Two keys share a `kid`.
        public static let duplicateKeyID = Code(.duplicateKeyID)
        /// Two default keys for one algorithm, or a key that can never be selected.
        public static let conflictingDefault = Code(.conflictingDefault)
        /// A JWKS whose keys were all skipped (encryption keys, unsupported algorithms).
        public static let noUsableKeys = Code(.noUsableKeys)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var file: String
    /// 0-based position in the JWKS `keys` array.
    public var keyIndex: Int?
    public var keyID: String?
    public var message: String

    public init(_ code: Code, file: String, keyIndex: Int? = nil, keyID: String? = nil, message: String) {
        self.code = code
        self.file = file
        self.keyIndex = keyIndex
        self.keyID = keyID
        self.message = message
    }

    public var description: String {
        var text = file
        if let keyIndex {
            text += ": key \(keyIndex)"
            if let keyID { text += " (kid \(AuthFailure.quoted(keyID)))" }
        } else if let keyID {
            text += ": kid \(AuthFailure.quoted(keyID))"
        }
        return text + ": " + message
    }
}
