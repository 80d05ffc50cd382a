import PortcullisBus

/// `POST /_broadcast` in AnyCable's HTTP broadcaster format, so a Rails app using
/// AnyCable's HTTP broadcast adapter (`broadcast_adapter: http`,
/// `http_broadcast_url: http://<admin address>/_broadcast`, `broadcast_key: <key>`) can
/// point at the edge unchanged.
///
/// What this matches, from AnyCable's broadcasting docs (docs.anycable.io,
/// "Broadcasting", sections "HTTP", "Securing HTTP endpoint" and "Publication format"):
/// the default path `/_broadcast`; `Authorization: Bearer <broadcast key>` on every
/// request; 201 on success; a body that is one publication
/// `{"stream": "<name>", "data": "<payload>", "meta": {…}}` or an array of them, `stream`
/// and `data` required strings, `meta.exclude_socket` a client to leave out, other `meta`
/// members ignored. As anycable-go does when it delivers (`StreamMessage.ToReplyFor`),
/// `data` that parses as JSON is the message as it stands, and anything else (or `null`)
/// is delivered as a JSON string.
///
/// Each publication is an emit to room `<stream>` with no namespace and no event, which
/// is what `RoomsContext.broadcast(toRoom:)` writes for ActionCable's
/// `broadcast(stream, message)`: every subscription following the stream gets
/// `{"identifier":…,"message":<data>}`. `exclude_socket` is compared with the edge's
/// connection ids, so any other value leaves nobody out.
extension PublishRequest {
    func broadcasts(_ body: [UInt8]) throws(PublishError) -> [Envelope] {
        let items = try Self.list(body, of: "publications")
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let place = "publications[\(index)]"
            let fields = try Self.object(item, at: place)
            guard let stream = try fields.string("stream") else { throw .invalid("\(place).stream: required") }
            guard let data = fields["data"] else { throw .invalid("\(place).data: required") }
            guard let text = data.string else {
                throw .invalid(
                    "\(place).data: expected a string (the payload, usually JSON text), got \(data.kind.rawValue)")
            }
            var except: String?
            if let meta = fields["meta"] {
                except = try Self.object(meta, at: "\(place).meta").string("exclude_socket")
            }
            envelopes.append(
                Envelope(
                    id: makeID(), kind: .emit, target: .room(stream), except: except, data: .json(Self.message(text)),
                    timestamp: now))
        }
        return envelopes
    }

    /// The message a subscriber receives for `data`: the JSON it holds, or the text itself as
    /// a JSON string.
    private static func message(_ data: String) -> String {
        if let value = try? JSONText.parse(Array(data.utf8)), value.kind != .null {
            return data
        }
        return JSONStringLiteral.quoted(data)
    }
}
