/// Which `Sec-WebSocket-Protocol` an ActionCable route answers with.
///
/// Rails' JS client offers `actioncable-v1-json, actioncable-unsupported` and, once open,
/// closes for good unless the server chose `actioncable-v1-json` (`connection.js`,
/// `isProtocolSupported`); so the edge must echo it whenever it is offered. Clients that
/// offer nothing (plain `ws`/`WebSocket` code, like the Circle seed's Node example) get no
/// header and speak the same JSON.
///
/// We never choose `actioncable-unsupported`, although Rails' server list includes it and
/// websocket-driver would echo it to a client offering only that: the JS client treats it
/// as unsupported and closes either way.
///
/// AnyCable's `actioncable-v1-ext-json` (protocols.md §3.4) is not chosen yet. Choosing it
/// promises the extensions the client then relies on: a `sid` in `welcome` and session
/// restore, `stream_id`/`epoch`/`offset` on broadcasts, the `history` and `pong` commands.
/// A session that has them can add it here ahead of v1-json; until then an AnyCable
/// client that offers both gets v1-json and works as a plain Rails client.
public enum ActionCableSubprotocol {
    /// The Rails protocol: JSON text frames, the commands of ``ActionCableCommand``.
    public static let json = "actioncable-v1-json"
    /// AnyCable's extended protocol, named so callers can log that it was offered.
    public static let extendedJSON = "actioncable-v1-ext-json"

    /// The protocol to echo in the 101, or nil to send no `Sec-WebSocket-Protocol` (the
    /// connection proceeds either way). `offered` holds the request's header values; each
    /// may be a comma-separated list, as browsers send it. Tokens compare exactly, as Rails'
    /// websocket-driver compares them (`hybi.rb`: `protos.find { |p| @protocols.include?(p) }`).
    public static func chosen(offered: [String]) -> String? {
        for value in offered {
            for item in value.split(separator: ",") where Self.trimmed(item) == Self.json {
                return Self.json
            }
        }
        return nil
    }

    private static func trimmed(_ item: Substring) -> Substring {
        var item = item
        while item.first == " " || item.first == "\t" { item.removeFirst() }
        while item.last == " " || item.last == "\t" { item.removeLast() }
        return item
    }
}
