import PortcullisHTTP

/// Invariants of the upstream response path, ``ResponseHeadParser`` and
/// ``ResponseBodyReader``, over the payload read as a response: the scan finds the same
/// end whatever the reads; every range a parsed head names lies inside it and relayed
/// fields hold no CR or LF (a backend must not be able to split the response the edge
/// writes); framing is never ambiguous; the body reader never claims more bytes than it
/// was given, always makes progress, and ends at the same byte however the body is cut.
enum ResponseChecks {
    static func check(_ payload: UnsafeRawBufferPointer, reads: [Int], requestWasHead: Bool) {
        let maxHeadSize = 4096
        var resume = 0
        var position = 0
        var headLength: Int?
        for length in reads where headLength == nil {
            position += length
            let seen = UnsafeRawBufferPointer(rebasing: payload[0..<position])
            switch ResponseHeadParser.scan(seen, from: resume, maxHeadSize: maxHeadSize) {
            case .complete(let found): headLength = found
            case .incomplete(let next):
                precondition(next <= position, "resume point past the bytes seen")
                resume = next
            case .problem: return
            }
        }
        let whole = ResponseHeadParser.scan(payload, from: 0, maxHeadSize: maxHeadSize)
        guard let headLength else {
            if case .complete = whole { preconditionFailure("the whole payload has a head the reads missed") }
            return
        }
        precondition(whole == .complete(length: headLength), "split reads found another end of the head")
        let bytes = UnsafeRawBufferPointer(rebasing: payload[0..<headLength])
        guard case .success(let head) = ResponseHeadParser.parse(bytes, requestWasHead: requestWasHead) else { return }
        checkHead(head, bytes: bytes, requestWasHead: requestWasHead)
        let body = UnsafeRawBufferPointer(rebasing: payload[headLength...])
        let once = readBody(body, head.body, reads: body.isEmpty ? [] : [body.count])
        var byteWise = readBody(body, head.body, reads: Array(repeating: 1, count: body.count))
        if once.failed && byteWise.failed {
            // A refused trailer section passes while it arrives and is judged at its end, so
            // how much of it went out before the refusal depends on the reads; its end never does.
            byteWise.relayed = once.relayed
        }
        precondition(byteWise == once, "one buffer and byte-by-byte body reads differ")
    }

    /// The field section a validated request would send, parsed as a response's: the edge
    /// never refuses from a backend what it would have sent to one.
    static func checkAccepted(_ request: ValidatedRequest) {
        var text = "HTTP/1.1 200 OK\r\n"
        for field in request.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { ResponseHeadParser.parse($0, requestWasHead: false) }
        if case .failure(let problem) = result {
            preconditionFailure("the response parser refuses a canonical request's fields: \(problem)")
        }
    }

    private static func checkHead(_ head: ResponseHead, bytes: UnsafeRawBufferPointer, requestWasHead: Bool) {
        precondition((100...599).contains(head.status), "status \(head.status)")
        for field in head.fields {
            precondition(!field.name.isEmpty && field.name.upperBound <= bytes.count, "name outside the head")
            precondition(field.value.upperBound <= bytes.count, "value outside the head")
            for index in field.name.lowerBound..<field.value.upperBound {
                precondition(bytes[index] != 0x0D && bytes[index] != 0x0A, "a field holds CR or LF")
            }
        }
        precondition(head.reason.upperBound <= bytes.count, "reason outside the head")
        for index in head.reason {
            precondition(bytes[index] != 0x0D && bytes[index] != 0x0A, "CR or LF in the reason")
        }
        let names = head.fields.map { String(decoding: bytes[$0.name], as: UTF8.self).lowercased() }
        let lengths = names.filter { $0 == "content-length" }.count
        let codings = names.filter { $0 == "transfer-encoding" }.count
        switch head.body {
        case .none:
            precondition(
                requestWasHead || head.status < 200 || head.status == 204 || head.status == 304,
                "no body for a status that has one")
        case .length:
            precondition(lengths == 1 && codings == 0, "a length with \(lengths) lengths and \(codings) codings")
        case .chunked:
            precondition(lengths == 0 && codings >= 1, "chunked with a length")
        case .untilClose:
            precondition(lengths == 0 && codings == 0 && !head.keepAlive, "read until close but framed or kept")
        }
        for (field, name) in zip(head.fields, names)
        where ["connection", "transfer-encoding", "keep-alive", "te", "trailer", "proxy-connection"].contains(name) {
            precondition(field.role == .hopByHop, "\(name) would be relayed")
        }
    }

    private struct Outcome: Equatable {
        var relayed = 0
        var data: [UInt8] = []
        var ended = false
        var failed = false
    }

    private static func readBody(_ input: UnsafeRawBufferPointer, _ body: ResponseHead.Body, reads: [Int]) -> Outcome {
        var reader = ResponseBodyReader(body)
        var outcome = Outcome()
        var position = 0
        for length in reads {
            var offset = 0
            let read = UnsafeRawBufferPointer(rebasing: input[position..<(position + length)])
            while offset < read.count {
                let rest = UnsafeRawBufferPointer(rebasing: read[offset...])
                switch reader.read(rest) {
                case .failure:
                    outcome.failed = true
                    return outcome
                case .success(let step):
                    precondition(step.consumed >= 0 && step.consumed <= rest.count, "consumed past the read")
                    precondition(step.data.lowerBound >= 0 && step.data.upperBound <= step.consumed, "data outside")
                    precondition(step.consumed > 0 || step.ended, "no progress")
                    outcome.relayed += step.consumed
                    outcome.data.append(contentsOf: rest[step.data])
                    if step.ended {
                        precondition(reader.isFinished, "ended but not finished")
                        outcome.ended = true
                        return outcome
                    }
                    offset += step.consumed
                }
            }
            position += length
        }
        return outcome
    }
}
