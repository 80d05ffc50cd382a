/// Edits a JWK Set file in place for `portcullis keys`: add a public key, retire one,
/// list them. Writes are atomic (temporary file + rename) so an edge reloading at the
/// same moment reads the old or the new set, never half. Members this code does not
/// know are kept as they were.
public enum JWKSFile {
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// One key as `keys list` prints it.
    public struct Summary: Sendable, Hashable {
        public var keyID: String?
        public var algorithm: String?
        public var keyType: String?
        public var use: String?
    }

    /// Appends `key`'s public JWK, creating the file (mode 0644) when missing.
    public static func add(_ key: KeyGenerator.GeneratedKey, to path: String) throws(Failure) {
        guard let jwk = key.publicJWKObject else {
            throw Failure(message: "\(key.algorithm) keys are secrets and are never written to a JWKS")
        }
        var (document, keys) = try read(path, missingIsEmpty: true)
        if keys.contains(where: { $0.objectValue?["kid"]?.stringValue == key.keyID }) {
            throw Failure(message: "\(path): kid \(key.keyID) already exists")
        }
        keys.append(.object(jwk))
        document["keys"] = .array(keys)
        try write(document, to: path)
    }

    /// Removes the key with `keyID`. Refuses to remove the last key: an empty set would
    /// fail to load and the edge would keep the old one, which is never what was meant.
    public static func remove(keyID: String, from path: String) throws(Failure) {
        var (document, keys) = try read(path, missingIsEmpty: false)
        let remaining = keys.filter { $0.objectValue?["kid"]?.stringValue != keyID }
        guard remaining.count < keys.count else { throw Failure(message: "\(path): no key with kid \(keyID)") }
        guard !remaining.isEmpty else {
            throw Failure(message: "\(path): \(keyID) is the only key; add its successor first")
        }
        keys = remaining
        document["keys"] = .array(keys)
        try write(document, to: path)
    }

    public static func list(_ path: String) throws(Failure) -> [Summary] {
        let (_, keys) = try read(path, missingIsEmpty: false)
        return keys.map { value in
            let object = value.objectValue ?? JSONObject()
            return Summary(
                keyID: object["kid"]?.stringValue, algorithm: object["alg"]?.stringValue,
                keyType: object["kty"]?.stringValue, use: object["use"]?.stringValue)
        }
    }

    private static func read(_ path: String, missingIsEmpty: Bool) throws(Failure) -> (JSONObject, [JSONValue]) {
        guard FileIO.exists(path) else {
            if missingIsEmpty { return (JSONObject(), []) }
            throw Failure(message: "\(path): no such file")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.contents(of: path)
        } catch {
            throw Failure(message: "\(path): cannot read: \(error)")
        }
        guard let document = JSONValue.parse(bytes)?.objectValue, let keys = document["keys"]?.arrayValue else {
            throw Failure(message: "\(path): not a JWK Set (a JSON object with a \"keys\" array)")
        }
        return (document, keys)
    }

    private static func write(_ document: JSONObject, to path: String) throws(Failure) {
        let text = JSONValue.object(document).prettySerialized()
        do {
            try FileIO.writeAtomically(Array(text.utf8), to: path, mode: FileIO.mode(of: path) ?? 0o644)
        } catch {
            throw Failure(message: "\(path): cannot write: \(error)")
        }
    }
}
