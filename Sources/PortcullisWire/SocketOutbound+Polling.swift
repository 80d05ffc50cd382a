extension SocketOutbound {
    /// A polling response body: Engine.IO packets as a session writes them (text = type
    /// digit + data, binary = a message's bytes) joined by the record separator, binary
    /// ones as `b` + base64.
    public static func pollingPayload(_ packets: [SocketOutbound]) -> String {
        var body = ""
        for (index, packet) in packets.enumerated() {
            if index > 0 { body.unicodeScalars.append(Unicode.Scalar(EngineIOPacket.recordSeparator)) }
            switch packet {
            case .text(let text):
                body += text
            case .binary(let bytes):
                body += "b"
                Base64.encode(bytes, into: &body)
            }
        }
        return body
    }
}
