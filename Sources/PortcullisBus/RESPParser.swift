import NIOCore

/// Reads RESP2 replies out of received bytes, in Swift.
///
/// hiredis's reader allocated a C object per reply element and the values were then copied
/// out of them (about a tenth of the edge's user time on the message path, counting the
/// allocator). This parser takes a reply in two passes over the bytes where they were
/// received: the first checks the whole reply and finds its end without allocating, the
/// second builds the ``RESPValue`` with every bulk string a slice of one copy of the reply's
/// bytes (one allocation per reply, and the receive buffer is not kept alive by the slices).
///
/// Stricter than hiredis 0.14, which read lengths leniently: a type byte outside RESP2, a
/// length or integer that is not a canonical decimal (an optional `-`, then digits without a
/// leading zero), a negative length other than `-1`, or a bulk string not followed by CRLF
/// is a protocol error; so is anything past the limits below, which bound what a
/// misbehaving server can make the edge buffer. Redis writes only canonical replies, and
/// `RESPParserDifferentialTests` checks the parser against hiredis itself on random replies
/// split at random points, and on mutated ones (where this parser accepts, hiredis agrees).
struct RESPParser {
    /// The longest bulk string accepted: Redis's own `proto-max-bulk-len` default.
    static let maxBulkLength = 512 * 1024 * 1024
    /// The longest status or error line accepted.
    static let maxLineLength = 1024 * 1024
    /// The deepest nesting of arrays accepted; Redis's replies nest a handful of levels.
    static let maxDepth = 64

    /// Bytes the buffer must hold before the pending reply can be complete, learned by the
    /// last scan: a large reply arriving over many reads is not rescanned on every read.
    private var minimumBytes = 1

    /// The next complete reply at `buffer`'s reader index, consumed from it, or nil when the
    /// buffered bytes do not hold one yet.
    mutating func next(from buffer: inout ByteBuffer) throws -> RESPValue? {
        guard buffer.readableBytes >= self.minimumBytes else { return nil }
        let scan = try buffer.withUnsafeReadableBytes { bytes in try Scanner(bytes: bytes).value(at: 0, depth: 0) }
        switch scan {
        case .needs(let count):
            self.minimumBytes = count
            return nil
        case .ends(let end):
            self.minimumBytes = 1
            let reply = buffer.readSlice(length: end)!
            var arena = Self.allocator.buffer(capacity: end)
            arena.writeImmutableBuffer(reply)
            return arena.withUnsafeReadableBytes { bytes in
                var builder = Builder(bytes: bytes, arena: arena)
                return builder.value()
            }
        }
    }

    private static let allocator = ByteBufferAllocator()
}

extension RESPParser {
    /// Where a scan stopped: the offset just past a complete value, or the number of bytes
    /// the buffer needs at least before it can hold one.
    fileprivate enum Scan {
        case ends(Int)
        case needs(Int)
    }

    /// The first pass: validates a reply and finds its end, allocating nothing.
    fileprivate struct Scanner {
        let bytes: UnsafeRawBufferPointer

        func value(at start: Int, depth: Int) throws -> Scan {
            guard start < self.bytes.count else { return .needs(start + 1) }
            let type = self.bytes[start]
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard let line = try self.line(from: start + 1, limit: RESPParser.maxLineLength) else {
                    return self.needsLine(from: start + 1)
                }
                return .ends(line.next)
            case UInt8(ascii: ":"):
                guard let line = try self.number(from: start + 1) else { return self.needsLine(from: start + 1) }
                return .ends(line.next)
            case UInt8(ascii: "$"):
                guard let line = try self.number(from: start + 1) else { return self.needsLine(from: start + 1) }
                if line.value == -1 { return .ends(line.next) }
                guard line.value >= 0, line.value <= RESPParser.maxBulkLength else {
                    throw RESPParser.violation("bulk string length \(line.value) out of range")
                }
                let end = line.next + line.value + 2
                guard end <= self.bytes.count else { return .needs(end) }
                guard self.bytes[end - 2] == UInt8(ascii: "\r"), self.bytes[end - 1] == UInt8(ascii: "\n") else {
                    throw RESPParser.violation("bulk string not followed by CRLF")
                }
                return .ends(end)
            case UInt8(ascii: "*"):
                guard let line = try self.number(from: start + 1) else { return self.needsLine(from: start + 1) }
                if line.value == -1 { return .ends(line.next) }
                guard line.value >= 0, line.value <= Int(Int32.max) else {
                    throw RESPParser.violation("array length \(line.value) out of range")
                }
                guard depth < RESPParser.maxDepth else {
                    throw RESPParser.violation("arrays nested deeper than \(RESPParser.maxDepth)")
                }
                var offset = line.next
                for _ in 0..<line.value {
                    switch try self.value(at: offset, depth: depth + 1) {
                    case .ends(let end): offset = end
                    case .needs(let count): return .needs(count)
                    }
                }
                return .ends(offset)
            default:
                throw RESPParser.violation("unknown reply type byte \(type)")
            }
        }

        /// The line starting at `start`: where its CRLF begins and the offset after it, or
        /// nil when the CRLF has not arrived. Throws past `limit` bytes without one.
        private func line(from start: Int, limit: Int) throws -> (end: Int, next: Int)? {
            var index = start
            while index + 1 < self.bytes.count {
                if self.bytes[index] == UInt8(ascii: "\r"), self.bytes[index + 1] == UInt8(ascii: "\n") {
                    return (index, index + 2)
                }
                index += 1
                if index - start > limit { throw RESPParser.violation("line longer than \(limit) bytes") }
            }
            if self.bytes.count - start > limit { throw RESPParser.violation("line longer than \(limit) bytes") }
            return nil
        }

        /// The canonical decimal on the line at `start`, or nil when the line is incomplete.
        private func number(from start: Int) throws -> (value: Int, next: Int)? {
            guard let line = try self.line(from: start, limit: 21) else { return nil }
            guard let value = RESPParser.decimal(self.bytes, start, line.end) else {
                let text = String(
                    decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<line.end]), as: UTF8.self)
                throw RESPParser.violation("bad integer \(String(reflecting: text))")
            }
            return (value, line.next)
        }

        /// An incomplete line needs at least one byte more than is buffered, and its CRLF.
        private func needsLine(from start: Int) -> Scan {
            .needs(max(self.bytes.count + 1, start + 2))
        }
    }
}

extension RESPParser {
    /// The second pass, over a copy of a reply the scanner accepted: builds the values.
    fileprivate struct Builder {
        let bytes: UnsafeRawBufferPointer
        let arena: ByteBuffer
        var offset = 0

        mutating func value() -> RESPValue {
            let type = self.bytes[self.offset]
            self.offset += 1
            switch type {
            case UInt8(ascii: "+"):
                return .simpleString(self.text())
            case UInt8(ascii: "-"):
                return .error(self.text())
            case UInt8(ascii: ":"):
                return .integer(self.number())
            case UInt8(ascii: "$"):
                let length = self.number()
                guard length >= 0 else { return .nullBulkString }
                let slice = self.arena.getSlice(at: self.arena.readerIndex + self.offset, length: length)!
                self.offset += length + 2
                return .bulkString(slice)
            default:
                let count = self.number()
                guard count >= 0 else { return .nullArray }
                var values: [RESPValue] = []
                values.reserveCapacity(count)
                for _ in 0..<count { values.append(self.value()) }
                return .array(values)
            }
        }

        private mutating func lineEnd() -> Int {
            var index = self.offset
            while !(self.bytes[index] == UInt8(ascii: "\r") && self.bytes[index + 1] == UInt8(ascii: "\n")) {
                index += 1
            }
            return index
        }

        private mutating func text() -> String {
            let end = self.lineEnd()
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<end]), as: UTF8.self)
            self.offset = end + 2
            return text
        }

        private mutating func number() -> Int {
            let end = self.lineEnd()
            let value = RESPParser.decimal(self.bytes, self.offset, end)!
            self.offset = end + 2
            return value
        }
    }

    /// A canonical decimal: an optional `-`, then `0` or digits without a leading zero,
    /// within `Int` (`-0` is not canonical).
    fileprivate static func decimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var index = start
        let negative = index < end && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < end else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            return index + 1 == end && !negative ? 0 : nil
        }
        var magnitude: UInt64 = 0
        while index < end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(UInt64(digit))
            guard !overflowA, !overflowB else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }

    fileprivate static func violation(_ detail: String) -> RedisError {
        RedisError(code: .protocolViolation, message: "invalid RESP from server: \(detail)")
    }
}
