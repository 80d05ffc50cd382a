/// The publish API on the admin listener (`admin.publish:`): backends that cannot write
/// to Redis themselves post messages for connections, users and rooms over HTTP, and the
/// edge appends them to the bus as outbound envelopes.
///
/// Every request must carry `Authorization: Bearer <key>`. The key is read from
/// `key_file` when the configuration is loaded (and again on each reload, so replacing the
/// file rotates it); it is never written to logs or error messages.
public struct PublishSettings: Sendable {
    /// The shortest key accepted, in bytes (`openssl rand -hex 32` makes 64).
    public static let minimumKeyLength = 32

    /// Where the key was read from; watched like the conf files, so a change reloads.
    public var keyFile: String
    /// The key: the file's contents with surrounding whitespace trimmed, at least
    /// ``minimumKeyLength`` bytes of the characters a Bearer token may hold.
    public var key: String
    /// Largest request body accepted; larger gets 413.
    public var maxBodySize: Int = 1 << 20
    public var location: SourceLocation

    public init(keyFile: String, key: String, location: SourceLocation) {
        self.keyFile = keyFile
        self.key = key
        self.location = location
    }
}
