/// A Socket.IO namespace: `/` (the main one) or `/` followed by more, without a comma.
///
/// A type rather than a bare string because the packet text ends the namespace at the
/// first `,`: a name with a comma, or one not starting with `/`, would be read back as
/// something else. Decoded packets always hold a valid one; names that come from
/// elsewhere (configuration, a bus envelope) go through ``init(_:)`` once, so the encoder
/// never has to refuse or trap.
public struct SocketIONamespace: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    /// The main namespace, `/`, which the packet text leaves out.
    public static let main = SocketIONamespace(unchecked: "/")

    /// nil unless `name` starts with `/` and holds no `,`.
    public init?(_ name: String) {
        guard name.utf8.first == UInt8(ascii: "/"), !name.utf8.contains(UInt8(ascii: ",")) else { return nil }
        self.name = name
    }

    init(unchecked name: String) {
        self.name = name
    }

    public var isMain: Bool {
        self.name == "/"
    }

    public var description: String {
        self.name
    }
}
