import CHiredis
import NIOCore

@testable import PortcullisBus

/// hiredis's own reply reader, the reference ``RESPParser`` is checked against: bytes go in
/// with ``feed(_:)``, complete replies come out of ``nextReply()`` as ``RESPValue``s.
///
/// Each C reply is copied into Swift values and freed before `nextReply()` returns. After a
/// protocol error the reader is unusable (hiredis keeps the error).
final class HiredisReader {
    private let handle: UnsafeMutablePointer<redisReader>

    init() {
        // hiredis only returns NULL when malloc fails; like Swift's own allocations, treat
        // that as fatal rather than threading an impossible error through every channel.
        guard let handle = portcullis_redisReaderCreate() else {
            fatalError("hiredis could not allocate a reply reader")
        }
        self.handle = handle
    }

    deinit {
        portcullis_redisReaderFree(self.handle)
    }

    /// Appends received bytes to the reader's buffer.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try self.check(redisReaderFeed(self.handle, base.assumingMemoryBound(to: CChar.self), bytes.count))
    }

    /// The next complete reply, or nil when the buffered bytes do not hold one yet.
    func nextReply() throws -> RESPValue? {
        var reply: UnsafeMutableRawPointer?
        try self.check(redisReaderGetReply(self.handle, &reply))
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        let node = reply.assumingMemoryBound(to: redisReply.self)
        var arena = Self.allocator.buffer(capacity: RESPValue.bulkBytes(in: node))
        RESPValue.copyBulkBytes(of: node, into: &arena)
        var offset = 0
        return RESPValue(copying: node, from: arena, offset: &offset)
    }

    private static let allocator = ByteBufferAllocator()

    /// Turns a hiredis return code into a thrown ``RedisError``.
    private func check(_ code: Int32) throws {
        guard code == REDIS_OK else {
            let detail = String(cString: portcullis_redisReaderError(self.handle))
            throw RedisError(code: .protocolViolation, message: "invalid RESP from server: \(detail)")
        }
    }
}

/// A reply's bulk strings are copied into one `ByteBuffer`, the reply's arena, and each
/// bulk string is a slice of it: one allocation per reply instead of one per string (an
/// XREADGROUP batch holds a dozen per entry). The arena is filled before the first slice is
/// taken, since writing to a buffer that slices share would copy it.
extension RESPValue {
    /// The total length of the bulk strings in a reply tree.
    fileprivate static func bulkBytes(in reply: UnsafePointer<redisReply>) -> Int {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return node.len
        case REDIS_REPLY_ARRAY:
            var total = 0
            for index in 0..<node.elements {
                if let element = node.element[index] { total += bulkBytes(in: element) }
            }
            return total
        default:
            return 0
        }
    }

    /// Appends the bytes of every bulk string in a reply tree, depth first.
    fileprivate static func copyBulkBytes(of reply: UnsafePointer<redisReply>, into arena: inout ByteBuffer) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            arena.writeBytes(UnsafeRawBufferPointer(start: node.str, count: node.len))
        case REDIS_REPLY_ARRAY:
            for index in 0..<node.elements {
                if let element = node.element[index] { copyBulkBytes(of: element, into: &arena) }
            }
        default:
            break
        }
    }

    /// Deep-copies a hiredis reply tree, its bulk strings as slices of `arena` (filled by
    /// ``copyBulkBytes(of:into:)`` in the same order) from `offset` on. The caller still
    /// owns (and frees) `reply`.
    fileprivate init(copying reply: UnsafePointer<redisReply>, from arena: ByteBuffer, offset: inout Int) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            self = .bulkString(arena.getSlice(at: arena.readerIndex + offset, length: node.len) ?? ByteBuffer())
            offset += node.len
        case REDIS_REPLY_STATUS:
            self = .simpleString(Self.text(node))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(node))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int(node.integer))
        case REDIS_REPLY_ARRAY:
            var values: [RESPValue] = []
            values.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let element = node.element[index] else {
                    values.append(.nullBulkString)
                    continue
                }
                values.append(RESPValue(copying: element, from: arena, offset: &offset))
            }
            self = .array(values)
        default:  // REDIS_REPLY_NIL; RESP2 readers produce no other type.
            self = portcullis_replyIsNullArray(reply) != 0 ? .nullArray : .nullBulkString
        }
    }

    private static func text(_ node: redisReply) -> String {
        let bytes = UnsafeRawBufferPointer(start: node.str, count: node.len)
        return String(decoding: bytes, as: UTF8.self)
    }
}
