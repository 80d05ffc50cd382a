/// HTTP long-polling payloads: the body of a POST from the client or of the answer to a
/// GET, several packets joined by the record separator `\u{1e}`, binary ones as `b` +
/// base64 (`4hello\u{1e}bAQIDBA==`).
///
/// Used by the polling transport (a later step); the WebSocket transport never batches.
/// The whole body is bounded by `maxPayload`, as the reference server bounds a POST body
/// by `maxHttpBufferSize` (it answers 413; here the caller decides the status).
extension EngineIOPacket {
    /// The byte between two packets of a polling payload.
    public static let recordSeparator: UInt8 = 0x1E

    /// Decodes a polling body. Every record must be a valid packet: an empty body, an empty
    /// record (`4a\u{1e}\u{1e}4b`, a trailing separator) or one bad packet fails the whole
    /// body, as the reference parser stops at its error packet and closes the session.
    /// Text payloads are slices of one String made from `body`.
    public static func decodePayload(_ body: [UInt8], maxPayload: Int) throws(EngineIOPacketError) -> [EngineIOPacket] {
        guard body.count <= maxPayload else {
            throw EngineIOPacketError(
                code: .payloadTooLarge, message: "payload of \(body.count) bytes exceeds \(maxPayload)")
        }
        guard UTF8StreamValidator.isValid(body) else {
            throw EngineIOPacketError(code: .invalidUTF8, message: "payload is not UTF-8")
        }
        let text = String(decoding: body, as: UTF8.self)
        var packets: [EngineIOPacket] = []
        var recordStart = text.utf8.startIndex
        var index = recordStart
        while true {
            if index == text.utf8.endIndex || text.utf8[index] == self.recordSeparator {
                let record = text[recordStart..<index]
                packets.append(try self.decode(text: record, maxPayload: maxPayload))
                guard index != text.utf8.endIndex else { return packets }
                index = text.utf8.index(after: index)
                recordStart = index
            } else {
                index = text.utf8.index(after: index)
            }
        }
    }

    /// Encodes packets as one polling body. A text payload holding `\u{1e}` cannot be
    /// framed (EIO 4 has no escape for it) and throws ``EngineIOPacketError/Code/recordSeparatorInText``
    /// instead of corrupting the batch; WebSocket frames can carry such text.
    public static func encodePayload(_ packets: some Collection<EngineIOPacket>) throws(EngineIOPacketError) -> String {
        var output = ""
        var isFirst = true
        for packet in packets {
            if case .text(let text) = packet.payload, text.utf8.contains(self.recordSeparator) {
                throw EngineIOPacketError(
                    code: .recordSeparatorInText, message: "text packet holds the record separator")
            }
            if !isFirst { output.unicodeScalars.append(Unicode.Scalar(self.recordSeparator)) }
            isFirst = false
            packet.encodeText(into: &output)
        }
        return output
    }
}
