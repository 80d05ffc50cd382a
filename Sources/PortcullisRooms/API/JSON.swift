import Foundation

/// A JSON value as handlers meet it: decoded arguments they do not model with a
/// `Decodable` type, claims, subscription params, data passed back as it came.
///
/// Integers that fit in `Int` stay integers (ids such as `community_member_id: 42` read
/// back as `42`, not `42.0`); objects keep no member order, as JSON does not promise one.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// Parses one JSON text; nil when it is not one valid JSON value (``JSONParsing``).
    public init?(parsing text: String) {
        guard let value = JSONParsing.parse(text) else { return nil }
        self = value
    }

    /// Any `Encodable` as a JSON value.
    public init(encoding value: some Encodable) throws {
        self = try Self.decoder.decode(JSON.self, from: JSON.encoder.encode(value))
    }

    /// Decodes the value as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try Self.decoder.decode(T.self, from: Self.encoder.encode(self))
    }

    /// Compact JSON text.
    public var text: String {
        // Encoding a JSON value cannot fail: every case maps to a JSON construct.
        (try? String(decoding: Self.encoder.encode(self), as: UTF8.self)) ?? "null"
    }

    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public subscript(index: Int) -> JSON? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, or a double without a fractional part.
    public var int: Int? {
        switch self {
        case .int(let value): value
        case .double(let value): value.rounded() == value ? Int(exactly: value) : nil
        default: nil
        }
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// A string as itself, an integer in decimal: how ids arrive from clients that send
    /// either (`"community_member_id": 42` or `"42"`).
    public var identifier: String? {
        switch self {
        case .string(let value): value.isEmpty ? nil : value
        case .int(let value): String(value)
        default: nil
        }
    }

    static let decoder = JSONDecoder()

    /// Slashes unescaped (event data reaches browsers as the handler wrote it), keys sorted
    /// (the same value always encodes to the same text).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}

extension JSON: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
