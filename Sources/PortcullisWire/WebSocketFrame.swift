/// One WebSocket frame as handed up by the wire decoder, already unmasked.
///
/// The edge's NIO frame decoder owns lengths and masking; this is the plain-value view
/// of what it produced, so the state machines above stay free of NIO. The opcode is the
/// raw 4-bit value because unknown opcodes are a protocol error the assembler must see.
public struct WebSocketFrame: Hashable, Sendable {
    public var fin: Bool
    public var rsv1: Bool
    public var rsv2: Bool
    public var rsv3: Bool
    public var opcode: UInt8
    public var payload: [UInt8]

    public init(
        fin: Bool = true,
        rsv1: Bool = false,
        rsv2: Bool = false,
        rsv3: Bool = false,
        opcode: UInt8,
        payload: [UInt8] = []
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.payload = payload
    }

    /// RFC 6455 §5.2 opcode values this module knows.
    public enum Opcode {
        public static let continuation: UInt8 = 0x0
        public static let text: UInt8 = 0x1
        public static let binary: UInt8 = 0x2
        public static let close: UInt8 = 0x8
        public static let ping: UInt8 = 0x9
        public static let pong: UInt8 = 0xA
    }
}
