/// One header field as received: the name keeps its spelling, the value has its
/// surrounding whitespace removed.
public struct HeaderField: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Case-insensitive name comparison against a lower-case ASCII name.
    public func hasName(_ lowercased: String) -> Bool {
        name.equalsASCIICaseInsensitive(lowercased)
    }

    @usableFromInline
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

/// A request head exactly as the client sent it, syntax checked, meaning not yet judged
/// (see ``RequestValidator``).
public struct RequestHead: Hashable, Sendable {
    public var method: String
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var fields: [HeaderField]

    public init(method: String, target: String, minorVersion: Int, fields: [HeaderField]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.fields = fields
    }

    public func values(_ lowercasedName: String) -> [String] {
        fields.filter { $0.hasName(lowercasedName) }.map(\.value)
    }
}

extension StringProtocol {
    /// Whether this equals `lowercased` (lower-case ASCII) when ASCII letters are folded;
    /// no allocation, and no Unicode folding (see `asciiLowercased()`).
    @inlinable
    public func equalsASCIICaseInsensitive(_ lowercased: String) -> Bool {
        utf8.count == lowercased.utf8.count && zip(utf8, lowercased.utf8).allSatisfy { HeaderField.lower($0) == $1 }
    }
}
