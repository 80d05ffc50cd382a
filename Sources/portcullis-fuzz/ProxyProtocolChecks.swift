import PortcullisHTTP

/// Invariants of ``ProxyProtocolHeader`` as the edge's decoder relies on them: a complete
/// header lies inside the bytes given, and every shorter prefix of it reads as incomplete
/// (the decoder parses again as bytes arrive, so no prefix may be taken for a header or
/// refused when its continuation would have been valid).
enum ProxyProtocolChecks {
    static func check(_ bytes: UnsafeRawBufferPointer) {
        guard case .complete(let length, _) = ProxyProtocolHeader.parse(bytes) else { return }
        precondition(length > 0 && length <= bytes.count, "PROXY header length \(length) outside the input")
        for end in 0..<length {
            let prefix = ProxyProtocolHeader.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
            precondition(prefix == .incomplete, "a \(end)-byte prefix of a PROXY header read as \(prefix)")
        }
    }
}
