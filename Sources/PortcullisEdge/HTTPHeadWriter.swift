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
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        writeString(head.method.rawValue)
        writeInteger(UInt8(ascii: " "))
        writeString(head.uri)
        writeStaticString(" HTTP/1.1\r\n")
        writeFields(head.headers)
        writeStaticString("\r\n")
    }

    mutating func writeResponseHead(_ head: HTTPResponseHead) {
        writeStatusLine(minorVersion: head.version.minor == 0 ? 0 : 1, status: head.status.code)
        writeString(head.status.reasonPhrase)
        writeStaticString("\r\n")
        writeFields(head.headers)
        writeStaticString("\r\n")
    }

    mutating func writeFields(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            writeField(name, value)
        }
    }

    mutating func writeField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
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
        writeStatusLine(minorVersion: minorVersion, status: UInt(head.status))
        writeBytes(UnsafeRawBufferPointer(rebasing: bytes[head.reason]))
        writeStaticString("\r\n")
        var hasRequestId = false
        for field in head.fields {
            switch field.role {
            case .endToEnd:
                break
            case .requestId:
                hasRequestId = true
            case .upgrade:
                guard case .upgrade = connection else { continue }
            case .hopByHop:
                continue
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: bytes[field.name]))
            writeStaticString(": ")
            writeBytes(UnsafeRawBufferPointer(rebasing: bytes[field.value]))
            writeStaticString("\r\n")
        }
        if !hasRequestId { writeField("x-request-id", requestId) }
        if chunked { writeStaticString("transfer-encoding: chunked\r\n") }
        switch connection {
        case .keepAlive where minorVersion == 0: writeStaticString("connection: keep-alive\r\n")
        case .keepAlive: break
        case .close: writeStaticString("connection: close\r\n")
        case .upgrade: writeStaticString("connection: upgrade\r\n")
        }
        writeStaticString("\r\n")
    }

    /// `HTTP/1.x NNN ` (the reason phrase follows).
    private mutating func writeStatusLine(minorVersion: Int, status: UInt) {
        writeStaticString(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        let code = min(status, 999)
        writeInteger(UInt8(ascii: "0") + UInt8(code / 100))
        writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        writeInteger(UInt8(ascii: " "))
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
