/// What the Socket.IO decoder needs from ``JSONScanner`` beyond skipping values: reading
/// the packet header byte by byte with the same cursor (so header and payload are one
/// pass over one byte array), and checking binary placeholders.
extension JSONScanner {
    /// Consumes and returns the next byte; nil at the end. (``index`` is only settable in
    /// the scanner's own file, so this goes through ``expect(_:_:)``, which cannot fail here.)
    mutating func take() -> UInt8? {
        guard let byte = self.peek() else { return nil }
        try? self.expect(byte, "byte")
        return byte
    }

    /// Consumes an ASCII digit and returns its value; nil (nothing consumed) otherwise.
    mutating func takeDigit() -> Int? {
        guard let byte = self.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        _ = self.take()
        return Int(byte - UInt8(ascii: "0"))
    }

    /// Skips one value like ``skipValue(depth:)`` and checks, at any depth, every object whose
    /// `_placeholder` is `true`: its `num` must be an integer below `attachmentCount` (the
    /// reference reconstructor throws "illegal attachments" otherwise). Other objects,
    /// including `"_placeholder":false`, are plain data.
    mutating func skipValueCheckingPlaceholders(
        depth: Int, attachmentCount: Int
    ) throws(SocketIOPacketError) -> Range<Int> {
        let start = self.index
        guard depth < Self.maxDepth else { throw SocketIOPacket.invalid("payload nested too deep") }
        switch self.peek() {
        case UInt8(ascii: "["):
            _ = self.take()
            try self.walkContainer(close: UInt8(ascii: "]")) { scanner throws(SocketIOPacketError) in
                _ = try scanner.skipValueCheckingPlaceholders(depth: depth + 1, attachmentCount: attachmentCount)
            }
        case UInt8(ascii: "{"):
            _ = self.take()
            var isPlaceholder = false
            var number: Range<Int>?
            try self.walkContainer(close: UInt8(ascii: "}")) { scanner throws(SocketIOPacketError) in
                let key = try SocketIOPacket.json { () throws(JSONScanner.Failure) in try scanner.scanString() }
                scanner.skipWhitespace()
                guard scanner.take() == UInt8(ascii: ":") else { throw SocketIOPacket.invalid("expected ':'") }
                scanner.skipWhitespace()
                let value = try scanner.skipValueCheckingPlaceholders(
                    depth: depth + 1, attachmentCount: attachmentCount)
                switch key {
                case "_placeholder": isPlaceholder = scanner.bytes[value].elementsEqual("true".utf8)
                case "num": number = value
                default: break
                }
            }
            if isPlaceholder {
                try self.checkPlaceholderNumber(number, attachmentCount: attachmentCount)
            }
        default:
            return try SocketIOPacket.json { () throws(JSONScanner.Failure) in try self.skipValue(depth: depth) }
        }
        return start..<self.index
    }

    /// The members of an array or object already opened: `element` consumes each one.
    private mutating func walkContainer(
        close: UInt8, element: (inout JSONScanner) throws(SocketIOPacketError) -> Void
    ) throws(SocketIOPacketError) {
        self.skipWhitespace()
        if self.peek() == close {
            _ = self.take()
            return
        }
        while true {
            self.skipWhitespace()
            try element(&self)
            self.skipWhitespace()
            switch self.take() {
            case UInt8(ascii: ","): continue
            case close: return
            default: throw SocketIOPacket.invalid("expected ',' or a closing bracket")
            }
        }
    }

    /// `num` must be JSON digits only (so a non-negative integer) naming an attachment.
    private func checkPlaceholderNumber(_ number: Range<Int>?, attachmentCount: Int) throws(SocketIOPacketError) {
        let failure = SocketIOPacketError(code: .invalidPlaceholder, message: "placeholder names no attachment")
        guard let number else { throw failure }
        var value = 0
        for byte in self.bytes[number] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw failure }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard value < attachmentCount else { throw failure }
        }
    }
}
