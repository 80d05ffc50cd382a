import NIOCore
import NIOHTTP1
import PortcullisHTTP

/// HTTP/1.1 heads written straight into a `ByteBuffer`.
///
/// The proxy writes bytes to both its sockets, with no NIO HTTP encoder between: a relayed
/// response head is copied from the upstream's bytes (``writeRelayedResponseHead``), and
/// the heads the edge makes itself are serialized here. Every field written was validated
/// on its way in (the strict request decoder, ``ResponseHeadParser``) or made by the edge.
extension ByteBuffer {
    mutating func writeRequestHead(_ head: UpstreamRequestHead) {
        let method = head.method.rawValue
        let size = method.utf8.count + 1 + head.uri.utf8.count + 11 + HeadBytes.fieldsSize(head.headers) + 2
        writeHead(size: size) { out in
            out.append(method)
            out.append(UInt8(ascii: " "))
            out.append(head.uri)
            out.append(" HTTP/1.1\r\n")
            out.appendFields(head.headers)
            out.append("\r\n")
        }
    }

    mutating func writeResponseHead(_ head: HTTPResponseHead) {
        let reason = head.status.reasonPhrase
        let size = HeadBytes.statusLineSize + reason.utf8.count + 2 + HeadBytes.fieldsSize(head.headers) + 2
        writeHead(size: size) { out in
            out.appendStatusLine(minorVersion: head.version.minor == 0 ? 0 : 1, status: head.status.code)
            out.append(reason)
            out.append("\r\n")
            out.appendFields(head.headers)
            out.append("\r\n")
        }
    }

    mutating func writeFields(_ headers: HTTPHeaders) {
        writeHead(size: HeadBytes.fieldsSize(headers)) { out in out.appendFields(headers) }
    }

    mutating func writeField(_ name: String, _ value: String) {
        writeHead(size: HeadBytes.fieldSize(name, value)) { out in out.appendField(name, value) }
    }

    /// Writes a head of exactly `size` bytes in one reservation: a head is a few dozen
    /// short pieces, and writing each through `ByteBuffer`'s own methods (a capacity and
    /// uniqueness check per piece, `writeStaticString` through generic slicing) cost more
    /// than the copying.
    private mutating func writeHead(size: Int, _ body: (inout HeadBytes) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = HeadBytes(raw)
            body(&out)
            precondition(out.count == size, "head size miscounted")
            return size
        }
    }

    /// How the client's connection continues after a relayed response.
    enum ClientConnection {
        case keepAlive
        case close
        /// A WebSocket tunnel: `Upgrade` passes, `Connection: upgrade`.
        case upgrade
    }

    /// The client's copy of an upstream's response head: the status line in the client's
    /// HTTP version, every end-to-end field copied from `bytes`, then the edge's own:
    /// `X-Request-Id` unless the upstream set one, `Transfer-Encoding: chunked` when the
    /// chunked body is relayed as it is, and `Connection` as the edge decided.
    mutating func writeRelayedResponseHead(
        _ head: ResponseHead,
        from bytes: UnsafeRawBufferPointer,
        minorVersion: Int,
        requestId: String,
        chunked: Bool,
        connection: ClientConnection
    ) {
        var size = HeadBytes.statusLineSize + head.reason.count + 2 + 2
        var hasRequestId = false
        for field in head.fields where Self.relays(field.role, connection) {
            size += field.name.count + field.value.count + 4
            hasRequestId = hasRequestId || field.role == .requestId
        }
        if !hasRequestId { size += HeadBytes.fieldSize(Self.requestIdName, requestId) }
        if chunked { size += Self.chunkedField.utf8CodeUnitCount }
        let connectionField = Self.connectionField(connection, minorVersion: minorVersion)
        size += connectionField.utf8CodeUnitCount
        writeHead(size: size) { out in
            out.appendStatusLine(minorVersion: minorVersion, status: UInt(head.status))
            out.append(UnsafeRawBufferPointer(rebasing: bytes[head.reason]))
            out.append("\r\n")
            for field in head.fields where Self.relays(field.role, connection) {
                out.append(UnsafeRawBufferPointer(rebasing: bytes[field.name]))
                out.append(": ")
                out.append(UnsafeRawBufferPointer(rebasing: bytes[field.value]))
                out.append("\r\n")
            }
            if !hasRequestId { out.appendField(Self.requestIdName, requestId) }
            if chunked { out.append(Self.chunkedField) }
            out.append(connectionField)
            out.append("\r\n")
        }
    }

    private static let requestIdName = "x-request-id"
    private static let chunkedField: StaticString = "transfer-encoding: chunked\r\n"

    private static func relays(_ role: ResponseHead.FieldRole, _ connection: ClientConnection) -> Bool {
        switch role {
        case .endToEnd, .requestId: return true
        case .upgrade: return connection == .upgrade
        case .hopByHop: return false
        }
    }

    /// The edge's `Connection` field for the client, or none.
    private static func connectionField(_ connection: ClientConnection, minorVersion: Int) -> StaticString {
        switch connection {
        case .keepAlive where minorVersion == 0: return "connection: keep-alive\r\n"
        case .keepAlive: return ""
        case .close: return "connection: close\r\n"
        case .upgrade: return "connection: upgrade\r\n"
        }
    }

    /// One chunk of a chunked request body: size line, data, CRLF.
    mutating func writeChunk(_ data: ByteBuffer) {
        writeString(String(data.readableBytes, radix: 16))
        writeStaticString("\r\n")
        writeImmutableBuffer(data)
        writeStaticString("\r\n")
    }

    /// The last chunk and the trailer section of a chunked request body.
    mutating func writeLastChunk(trailers: HTTPHeaders?) {
        writeStaticString("0\r\n")
        if let trailers { writeFields(trailers) }
        writeStaticString("\r\n")
    }
}

/// A cursor over memory reserved for a whole head; the caller counts the bytes first.
struct HeadBytes {
    private let base: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawBufferPointer) {
        self.base = base
    }

    /// `HTTP/1.x NNN ` (the reason phrase follows).
    static let statusLineSize = 13

    /// `name: value` CRLF.
    static func fieldSize(_ name: String, _ value: String) -> Int {
        name.utf8.count + value.utf8.count + 4
    }

    static func fieldsSize(_ headers: HTTPHeaders) -> Int {
        var size = 0
        for (name, value) in headers { size += fieldSize(name, value) }
        return size
    }

    // The bounds checks stay in release builds (the buffer pointer's own are debug-only):
    // a miscounted head traps rather than writing past its reservation.
    mutating func append(_ byte: UInt8) {
        precondition(count < base.count, "head size miscounted")
        base[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        precondition(bytes.count <= base.count - count, "head size miscounted")
        UnsafeMutableRawBufferPointer(rebasing: base[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in text.utf8 { append(byte) }
        }
    }

    mutating func appendField(_ name: String, _ value: String) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    mutating func appendFields(_ headers: HTTPHeaders) {
        for (name, value) in headers { appendField(name, value) }
    }

    mutating func appendStatusLine(minorVersion: Int, status: UInt) {
        append(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        let code = min(status, 999)
        append(UInt8(ascii: "0") + UInt8(code / 100))
        append(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        append(UInt8(ascii: "0") + UInt8(code % 10))
        append(UInt8(ascii: " "))
    }
}
