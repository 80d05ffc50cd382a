import PortcullisHTTP

/// Invariants of ``ChunkedBodyDecoder``: it never claims more bytes than it was given,
/// its data spans lie inside the buffer and always make progress, and how the body is cut
/// into reads changes nothing: one buffer, one byte at a time and the fuzzer's reads give
/// the same body, the same outcome and stop at the same byte. A decoder whose result
/// depends on read boundaries is one a client can steer with TCP segmentation.
enum ChunkedChecks {
    enum End: Equatable {
        case needMore
        case end(trailers: [HeaderField])
        case refused(RequestRefusal)
    }

    struct Outcome: Equatable {
        var body: [UInt8] = []
        var end = End.needMore
        /// Bytes of the input consumed when decoding stopped.
        var stoppedAt = 0
    }

    static func check(_ body: UnsafeRawBufferPointer, limits: HeadLimits, reads: [Int]) {
        let whole = decode(body, limits: limits, reads: body.isEmpty ? [] : [body.count])
        let byteByByte = decode(body, limits: limits, reads: Array(repeating: 1, count: body.count))
        precondition(whole == byteByByte, "one buffer and byte-by-byte decoding differ")
        precondition(decode(body, limits: limits, reads: reads) == whole, "split reads change the decoding")
    }

    private static func decode(_ input: UnsafeRawBufferPointer, limits: HeadLimits, reads: [Int]) -> Outcome {
        var decoder = ChunkedBodyDecoder(
            maxLineLength: min(4096, limits.maxRequestLine), maxTrailerSize: limits.maxHeadSize,
            maxTrailerFields: limits.maxFields)
        var outcome = Outcome()
        var position = 0
        for length in reads {
            let read = UnsafeRawBufferPointer(rebasing: input[position..<(position + length)])
            var offset = 0
            while offset < read.count {
                let rest = UnsafeRawBufferPointer(rebasing: read[offset...])
                let (consumed, step) = decoder.decode(rest)
                precondition(consumed >= 0 && consumed <= rest.count, "consumed \(consumed) of \(rest.count) bytes")
                switch step {
                case .data(let start, let count):
                    precondition(count > 0 && start >= 0 && start + count == consumed, "data span outside the read")
                    outcome.body.append(contentsOf: rest[start..<(start + count)])
                case .needMore:
                    precondition(consumed == rest.count, "needMore with bytes left over")
                case .end(let trailers):
                    precondition(decoder.isFinished, "end but not finished")
                    precondition(trailers.count <= limits.maxFields, "more trailers than allowed")
                    precondition(
                        !trailers.contains {
                            ["content-length", "transfer-encoding", "host"].contains($0.name.lowercased())
                        },
                        "a framing or routing field passed as a trailer")
                    outcome.end = .end(trailers: trailers)
                    outcome.stoppedAt = position + offset + consumed
                    return outcome
                case .refused(let refusal):
                    precondition(!decoder.isFinished, "refused but finished")
                    if consumed < rest.count {
                        let (_, next) = decoder.decode(UnsafeRawBufferPointer(rebasing: rest[consumed...]))
                        guard case .refused = next else { preconditionFailure("a refused decoder went on decoding") }
                    }
                    outcome.end = .refused(refusal)
                    outcome.stoppedAt = position + offset + consumed
                    return outcome
                }
                offset += consumed
            }
            position += length
        }
        outcome.stoppedAt = position
        return outcome
    }
}
