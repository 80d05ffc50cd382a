import PortcullisWire

/// A hand-advanced instant so time-driven state machines are tested without sleeping.
struct FakeInstant: InstantProtocol {
    var offset: Duration

    static let zero = FakeInstant(offset: .zero)

    func advanced(by duration: Duration) -> FakeInstant {
        FakeInstant(offset: self.offset + duration)
    }

    func duration(to other: FakeInstant) -> Duration {
        other.offset - self.offset
    }

    static func < (lhs: FakeInstant, rhs: FakeInstant) -> Bool {
        lhs.offset < rhs.offset
    }
}

extension WebSocketFrame {
    static func text(_ string: String, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: Opcode.text, payload: Array(string.utf8))
    }

    static func text(bytes: [UInt8], fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: Opcode.text, payload: bytes)
    }

    static func binary(_ bytes: [UInt8], fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: Opcode.binary, payload: bytes)
    }

    static func continuation(_ bytes: [UInt8], fin: Bool) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: Opcode.continuation, payload: bytes)
    }

    static func ping(_ bytes: [UInt8] = [], fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: Opcode.ping, payload: bytes)
    }

    static func pong(_ bytes: [UInt8] = []) -> WebSocketFrame {
        WebSocketFrame(opcode: Opcode.pong, payload: bytes)
    }

    static func close(code: UInt16, reason: [UInt8] = []) -> WebSocketFrame {
        WebSocketFrame(opcode: Opcode.close, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    static func close(payload: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(opcode: Opcode.close, payload: payload)
    }
}

extension WebSocketMessageAssembler.Action {
    /// The close code of a `.fail` action, nil for every other action.
    var failureCloseCode: UInt16? {
        if case .fail(let failure) = self { return failure.closeCode.rawValue }
        return nil
    }
}

/// Feeds frames in order and returns every action.
func feed(_ frames: [WebSocketFrame], maxMessageSize: Int = 1 << 20) -> [WebSocketMessageAssembler.Action] {
    var assembler = WebSocketMessageAssembler(configuration: .init(maxMessageSize: maxMessageSize))
    return frames.map { assembler.receive($0) }
}
