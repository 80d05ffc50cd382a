/// Writes private key material to a new file, mode 0600, never replacing an existing
/// file (a second `keys generate` must not destroy the key tokens are signed with).
public enum PrivateKeyFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(JWKSFile.Failure) {
        do {
            try FileIO.writeAtomically(bytes, to: path, mode: 0o600, exclusive: true)
        } catch {
            throw JWKSFile.Failure(message: "\(path): cannot write: \(error)")
        }
    }
}
