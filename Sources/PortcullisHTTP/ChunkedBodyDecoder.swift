/// Reads a chunked body (RFC 9112 §7.1) from bytes as they arrive: a client's request or
/// an upstream's response.
///
/// A state machine over bytes, so a chunk header split across reads is no special case.
/// It is strict where smuggling lives: hex sizes that fit an `Int`, chunk lines (size and
/// extensions) of bounded length, CRLF after every line and every chunk's data, and a
/// bounded trailer section whose fields follow the header rules and may not carry
/// framing or routing fields. Data is never copied: ``Step/data(offset:count:)`` names the
/// span of the caller's buffer to forward.
public struct ChunkedBodyDecoder: Sendable {
    public enum Step: Equatable, Sendable {
        /// Forward `count` bytes starting `offset` bytes into the buffer just given.
        case data(offset: Int, count: Int)
        /// Everything given was consumed; call again with more bytes.
        case needMore
        /// The last chunk and its trailer section were read.
        case end(trailers: [HeaderField])
        case refused(RequestRefusal)
    }

    private enum State: Sendable {
        case size(value: Int, digits: Int)
        /// Whitespace or extensions after the size, up to the CR.
        case sizeTail(size: Int, inExtension: Bool)
        case sizeLF(size: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailers
        case done
        case failed
    }

    /// Fields a request's trailer may not carry: a recipient must not let them change
    /// framing or routing after the fact (RFC 9110 §6.5.1).
    public static let requestForbiddenTrailers: Set<String> = [
        "content-length", "transfer-encoding", "host", "connection", "keep-alive", "te", "trailer", "upgrade",
        "expect", "content-type", "content-encoding", "content-range", "authorization", "cookie",
        "proxy-authorization",
    ]

    /// Fields a response's trailer may not carry: its framing and the connection's.
    public static let responseForbiddenTrailers: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
        "proxy-connection",
    ]

    private var state = State.size(value: 0, digits: 0)
    private var lineLength = 0
    private var trailerBytes: [UInt8] = []
    private let maxLineLength: Int
    private let maxTrailerSize: Int
    private let maxTrailerFields: Int
    private let forbiddenTrailers: Set<String>

    public init(
        maxLineLength: Int = 4096, maxTrailerSize: Int = 32 * 1024, maxTrailerFields: Int = 100,
        forbiddenTrailers: Set<String> = requestForbiddenTrailers
    ) {
        self.maxLineLength = maxLineLength
        self.maxTrailerSize = maxTrailerSize
        self.maxTrailerFields = maxTrailerFields
        self.forbiddenTrailers = forbiddenTrailers
    }

    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes control bytes from `bytes` up to the next data span, the end of the body,
    /// or the end of the buffer; returns how many bytes were consumed (data included).
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, step: Step) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .size(let value, let digits):
                if let digit = ByteClass.hexValue(byte) {
                    guard value <= (Int.max - 15) >> 4 else { return fail(index, "chunk size overflows") }
                    state = .size(value: value << 4 | Int(digit), digits: digits + 1)
                } else if digits == 0 {
                    return fail(index, "chunk size is not hexadecimal")
                } else if byte == 0x0D {
                    state = .sizeLF(size: value)
                } else if byte == UInt8(ascii: ";") || byte == 0x20 || byte == 0x09 {
                    state = .sizeTail(size: value, inExtension: byte == UInt8(ascii: ";"))
                } else {
                    return fail(index, "junk after the chunk size")
                }
            case .sizeTail(let size, let inExtension):
                if byte == 0x0D {
                    state = .sizeLF(size: size)
                } else if byte == UInt8(ascii: ";") {
                    state = .sizeTail(size: size, inExtension: true)
                } else if byte == 0x20 || byte == 0x09 {
                    break
                } else if !inExtension || !ByteClass.fieldValue[Int(byte)] || byte >= 0x80 {
                    return fail(index, "invalid chunk extension")
                }
            case .sizeLF(let size):
                guard byte == 0x0A else { return fail(index, "chunk line does not end in CRLF") }
                lineLength = 0
                state = size == 0 ? .trailers : .data(remaining: size)
                index += 1
                continue
            case .data(let remaining):
                let count = min(remaining, bytes.count - index)
                state = remaining == count ? .dataCR : .data(remaining: remaining - count)
                return (index + count, .data(offset: index, count: count))
            case .dataCR:
                guard byte == 0x0D else { return fail(index, "chunk data is not followed by CRLF") }
                state = .dataLF
            case .dataLF:
                guard byte == 0x0A else { return fail(index, "chunk data is not followed by CRLF") }
                state = .size(value: 0, digits: 0)
                lineLength = 0
                index += 1
                continue
            case .trailers:
                return trailers(bytes, from: index)
            case .done:
                return (index, .end(trailers: []))
            case .failed:
                return (index, .refused(RequestRefusal(.badChunk, "chunked body already refused")))
            }
            index += 1
            lineLength += 1
            if lineLength > maxLineLength {
                return fail(index, "chunk line over \(maxLineLength) bytes")
            }
        }
        if case .trailers = state { return trailers(bytes, from: index) }
        return (index, .needMore)
    }

    private mutating func trailers(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (consumed: Int, step: Step) {
        var index = start
        while index < bytes.count {
            trailerBytes.append(bytes[index])
            index += 1
            if trailerBytes.count > maxTrailerSize {
                state = .failed
                return (index, .refused(RequestRefusal(.badTrailer, "trailer section over \(maxTrailerSize) bytes")))
            }
            let count = trailerBytes.count
            let complete =
                (count == 2 && trailerBytes[0] == 0x0D && trailerBytes[1] == 0x0A)
                || (count >= 4 && trailerBytes[count - 4] == 0x0D && trailerBytes[count - 3] == 0x0A
                    && trailerBytes[count - 2] == 0x0D && trailerBytes[count - 1] == 0x0A)
            if complete {
                let parsed = trailerBytes.withUnsafeBytes {
                    RequestHeadParser.fields($0, maxFields: maxTrailerFields)
                }
                trailerBytes = []
                switch parsed {
                case .failure(let refusal):
                    state = .failed
                    return (index, .refused(RequestRefusal(.badTrailer, "invalid trailer: \(refusal.detail)")))
                case .success(let fields):
                    if let field = fields.first(where: { forbiddenTrailers.contains($0.name.asciiLowercased()) }) {
                        state = .failed
                        return (
                            index, .refused(RequestRefusal(.badTrailer, "\(field.name) is not allowed in a trailer"))
                        )
                    }
                    state = .done
                    return (index, .end(trailers: fields))
                }
            }
            if count >= 2, trailerBytes[count - 1] == 0x0A, trailerBytes[count - 2] != 0x0D {
                state = .failed
                return (index, .refused(RequestRefusal(.badTrailer, "trailer line ends in a bare LF")))
            }
        }
        return (index, .needMore)
    }

    private mutating func fail(_ index: Int, _ detail: String) -> (consumed: Int, step: Step) {
        state = .failed
        return (index, .refused(RequestRefusal(.badChunk, detail)))
    }
}
