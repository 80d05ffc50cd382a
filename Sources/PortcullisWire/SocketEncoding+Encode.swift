extension SocketEncoding {
    /// The messages that carry `delivery` in this encoding; empty when it has nothing to
    /// send here (an ack on an opaque route, binary data over ActionCable, a publisher's
    /// invalid JSON).
    public func encode(_ delivery: SocketDelivery) -> [SocketOutbound] {
        switch format {
        case .rawJSON: RawSession.encodeJSON(delivery)
        case .rawOpaque: RawSession.encodeOpaque(delivery)
        case .socketIO: SocketIOSession.encode(delivery, namespace: namespace ?? "/")
        case .actionCable: namespace.map { ActionCableSession.encode(delivery, identifier: $0) } ?? []
        }
    }
}

extension RawSession {
    private static let json = RawProtocolSession(mode: .json)

    /// json mode: `{"event":E,"data":D}` with JSON data inserted as it is, text data as a
    /// JSON string, binary data as a binary message of the bytes alone; acks as
    /// `{"event":"ack","ack":n,"data":D}` (non-JSON data answers `null`).
    static func encodeJSON(_ delivery: SocketDelivery) -> [SocketOutbound] {
        switch delivery.kind {
        case .emit:
            let event = delivery.event ?? "message"
            switch delivery.data {
            case nil: return [SocketOutbound(json.outboundEvent(event, data: "null"))]
            case .json(let text): return [SocketOutbound(json.outboundEvent(event, data: text))]
            case .text(let text): return [SocketOutbound(json.outboundEvent(event, data: JSONString.encode(text)))]
            case .binary(let bytes): return [.binary(bytes)]
            }
        case .ack:
            guard let ack = delivery.ack else { return [] }
            if case .json(let text) = delivery.data {
                return [SocketOutbound(json.ackReply(ack, data: text))]
            }
            return [SocketOutbound(json.ackReply(ack))]
        }
    }

    /// opaque mode: the payload as it is (text stays text, binary stays binary); acks and
    /// emits without data send nothing.
    static func encodeOpaque(_ delivery: SocketDelivery) -> [SocketOutbound] {
        guard delivery.kind == .emit else { return [] }
        switch delivery.data {
        case nil: return []
        case .json(let text), .text(let text): return [.text(text)]
        case .binary(let bytes): return [.binary(bytes)]
        }
    }
}
