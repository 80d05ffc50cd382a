/// Turns the Engine.IO messages of one connection into complete Socket.IO packets,
/// gathering the binary frames that follow a BINARY_EVENT or BINARY_ACK header.
///
/// One instance per Engine.IO session, owned by the Socket.IO session machine, which feeds
/// it every `message` packet in arrival order and runs the returned ``Action``. A value
/// type with no I/O. Invariants:
/// - At most one binary packet is open. While it awaits attachments, a text message is a
///   protocol error, and so is an attachment when none is awaited (the reference decoder
///   throws on both and the server closes the connection).
/// - A header with N attachments is followed by exactly N binary messages; the N-th
///   completes the packet, attachments kept in arrival order, which is placeholder order.
///   A header with 0 attachments is complete at once.
/// - ``Configuration/maxAttachments`` is checked on the header, before anything is
///   buffered; ``Configuration/maxPacketSize`` (header text plus attachments) as each
///   attachment arrives, so an oversized packet is never held in full.
/// - After a failure every further input is ignored (``Action/none``): the session is
///   closing and must not act on a half-read stream.
public struct SocketIOBinaryAssembler: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Most attachments one packet may announce (reference default 10).
        public var maxAttachments: Int
        /// Most bytes one packet may hold: its text plus all its attachments.
        public var maxPacketSize: Int

        public init(maxAttachments: Int = SocketIOPacket.defaultMaxAttachments, maxPacketSize: Int = 1_000_000) {
            self.maxAttachments = maxAttachments
            self.maxPacketSize = maxPacketSize
        }
    }

    public enum Action: Hashable, Sendable {
        /// Nothing to do yet: an attachment is awaited, or input after a failure was ignored.
        case none
        /// A complete packet, attachments included.
        case packet(SocketIOPacket)
        /// The stream is broken; close the connection (the reference reason is `parse error`).
        case fail(SocketIOPacketError)
    }

    private enum State: Sendable {
        case idle
        /// A binary header arrived; `attachments` so far, `size` = header bytes + theirs.
        case awaiting(SocketIOPacket, attachments: [[UInt8]], size: Int)
        case failed
        /// Transient placeholder so the attachment buffer is appended without a copy.
        case modifying
    }

    public let configuration: Configuration
    private var state: State = .idle

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// True while a binary packet waits for attachments.
    public var isAwaitingAttachments: Bool {
        if case .awaiting = self.state { return true }
        return false
    }

    /// Event: a text `message` arrived (its payload, after the Engine.IO `4`).
    public mutating func receivedText(_ text: Substring) -> Action {
        switch self.state {
        case .failed:
            return .none
        case .awaiting:
            return self.failed(SocketIOPacketError(code: .unexpectedText, message: "text while awaiting attachments"))
        case .modifying:
            preconditionFailure("invalid state")
        case .idle:
            break
        }
        let size = text.utf8.count
        guard size <= self.configuration.maxPacketSize else {
            return self.failed(self.tooLarge(size))
        }
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket.decode(text, maxAttachments: self.configuration.maxAttachments)
        } catch {
            return self.failed(error)
        }
        guard packet.attachmentCount > 0 else { return .packet(packet) }
        self.state = .awaiting(packet, attachments: [], size: size)
        return .none
    }

    public mutating func receivedText(_ text: String) -> Action {
        self.receivedText(text[...])
    }

    /// Event: a binary `message` arrived.
    public mutating func receivedAttachment(_ bytes: [UInt8]) -> Action {
        switch self.state {
        case .failed:
            return .none
        case .idle:
            return self.failed(
                SocketIOPacketError(code: .unexpectedAttachment, message: "binary message with no binary packet open"))
        case .modifying:
            preconditionFailure("invalid state")
        case .awaiting(let packet, var attachments, let size):
            self.state = .modifying
            let newSize = size + bytes.count
            guard newSize <= self.configuration.maxPacketSize else {
                return self.failed(self.tooLarge(newSize))
            }
            attachments.append(bytes)
            guard attachments.count == packet.attachmentCount else {
                self.state = .awaiting(packet, attachments: attachments, size: newSize)
                return .none
            }
            self.state = .idle
            return .packet(packet.withAttachments(attachments))
        }
    }

    private mutating func failed(_ error: SocketIOPacketError) -> Action {
        self.state = .failed
        return .fail(error)
    }

    private func tooLarge(_ size: Int) -> SocketIOPacketError {
        SocketIOPacketError(
            code: .packetTooLarge, message: "packet of \(size) bytes exceeds \(self.configuration.maxPacketSize)")
    }
}
