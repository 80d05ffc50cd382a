/// The receiving side of one connection's permessage-deflate agreement, used by
/// ``WebSocketMessageAssembler``; allocated only when the extension was negotiated, so a
/// connection without it carries one nil reference.
///
/// Holds the agreement and the zlib stream, made on the first compressed message. When the
/// client does not take its context over (`client_no_context_takeover`) the stream is
/// dropped after every message, so an idle connection keeps no inflate window; otherwise
/// the window stays for the next message. Not thread-safe: one connection's.
public final class MessageInflater {
    public let agreement: PerMessageDeflate
    private var stream: RawInflater?

    public init(_ agreement: PerMessageDeflate) {
        self.agreement = agreement
    }

    /// Inflates one frame of a compressed message onto `output`, which may then hold at
    /// most `limit` bytes; `final` is the message's last frame. nil when all went well.
    func inflate(_ payload: [UInt8], final: Bool, limit: Int, into output: inout [UInt8]) -> WebSocketFailure? {
        let stream: RawInflater
        if let existing = self.stream {
            stream = existing
        } else {
            do {
                stream = try RawInflater(windowBits: self.agreement.clientMaxWindowBits)
            } catch {
                return WebSocketFailure(
                    code: .compressionUnavailable, closeCode: .internalError, message: "cannot inflate")
            }
            self.stream = stream
        }
        do {
            try stream.inflate(payload, final: final, limit: limit, into: &output)
        } catch {
            self.stream = nil
            switch error {
            case .tooBig:
                return WebSocketFailure(code: .messageTooBig, closeCode: .messageTooBig, message: "message too big")
            case .invalidData:
                return WebSocketFailure(
                    code: .invalidCompressedData, closeCode: .invalidPayloadData, message: "invalid compressed data")
            }
        }
        if final {
            if self.agreement.clientNoContextTakeover {
                self.stream = nil
            } else {
                stream.endMessage(contextTakeover: true)
            }
        }
        return nil
    }

    /// The connection failed: the window is not needed any more.
    func release() {
        self.stream = nil
    }
}
