import NIOCore

/// One binary-safe word of a Redis command: text, bytes or an integer (sent as its decimal
/// text, as Redis expects). String and integer literals convert implicitly, so a command
/// reads `["SET", "key", "value", "EX", 10]`.
public struct RedisArgument: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        case string(String)
        case buffer(ByteBuffer)
        case bytes([UInt8])
        case integer(Int)
    }

    private var storage: Storage

    public init(_ string: String) {
        self.storage = .string(string)
    }

    public init(_ buffer: ByteBuffer) {
        self.storage = .buffer(buffer)
    }

    public init(_ bytes: [UInt8]) {
        self.storage = .bytes(bytes)
    }

    public init(_ integer: Int) {
        self.storage = .integer(integer)
    }

    /// The number of bytes this argument occupies on the wire, not counting RESP framing.
    public var byteCount: Int {
        switch self.storage {
        case .string(let string): string.utf8.count
        case .buffer(let buffer): buffer.readableBytes
        case .bytes(let bytes): bytes.count
        case .integer(let integer): String(integer).utf8.count
        }
    }

    /// The Redis Cluster hash slot of the argument as a key (``RedisKeySlot``), hashed
    /// where it is stored, without a copy.
    var keySlot: Int {
        switch self.storage {
        case .string(let string): RedisKeySlot.slot(of: string.utf8)
        case .buffer(let buffer): RedisKeySlot.slot(of: buffer.readableBytesView)
        case .bytes(let bytes): RedisKeySlot.slot(of: bytes)
        case .integer(let integer): RedisKeySlot.slot(of: String(integer).utf8)
        }
    }

    /// Appends the argument's raw bytes to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        switch self.storage {
        case .string(let string): buffer.writeString(string)
        case .buffer(let bytes): buffer.writeImmutableBuffer(bytes)
        case .bytes(let bytes): buffer.writeBytes(bytes)
        case .integer(let integer): buffer.writeString(String(integer))
        }
    }
}

extension RedisArgument: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension RedisArgument: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}

extension RedisArgument: CustomStringConvertible {
    public var description: String {
        switch self.storage {
        case .string(let string): string
        case .buffer(let buffer): String(buffer: buffer)
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let integer): String(integer)
        }
    }
}
