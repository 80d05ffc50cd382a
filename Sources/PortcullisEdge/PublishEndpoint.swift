import PortcullisAuth

/// The publish API's endpoints on the admin listener, recognised from a request target
/// (the query is ignored).
///
/// The two notification endpoints mirror an express app's routes `/emit/:userId/:event`
/// and `/emit/:event`: their segments are percent-decoded as express decodes route
/// parameters, and one trailing slash is accepted as express's non-strict routing does.
enum PublishEndpoint: Hashable {
    /// `POST /publish`: messages in the edge's own format.
    case publish
    /// `POST /emit/:userId/:event`.
    case emitToUser(user: String, event: String)
    /// `POST /emit/:event` with `{"userIds": …, "data": …}`.
    case emitToUsers(event: String)
    /// `POST /_broadcast`: AnyCable's HTTP broadcaster format.
    case broadcast

    /// The `endpoint` label of the publish metrics.
    var label: String {
        switch self {
        case .publish: "publish"
        case .emitToUser: "emit_user"
        case .emitToUsers: "emit_users"
        case .broadcast: "broadcast"
        }
    }

    /// The endpoint `target` addresses; nil when it is none of the publish API's paths, a
    /// failure when it is an `/emit` path with an empty or badly encoded segment or the
    /// wrong number of them.
    static func recognise(target: String) -> Result<PublishEndpoint, PublishError>? {
        let path = target.prefix { $0 != "?" && $0 != "#" }
        switch path {
        case "/publish": return .success(.publish)
        case "/_broadcast": return .success(.broadcast)
        case "/emit": return .failure(Self.emitShape)
        default: break
        }
        guard path.hasPrefix("/emit/") else { return nil }
        var segments = path.dropFirst("/emit/".count).split(separator: "/", omittingEmptySubsequences: false)
        if segments.count > 1, segments.last?.isEmpty == true {
            segments.removeLast()
        }
        let names = segments.count == 1 ? ["event"] : ["userId", "event"]
        guard segments.count == names.count else { return .failure(Self.emitShape) }
        var decoded: [String] = []
        for (segment, name) in zip(segments, names) {
            guard let value = PercentDecoding.decode(segment) else {
                return .failure(.invalid("\(name): malformed percent-encoding in the path"))
            }
            guard !value.isEmpty else { return .failure(.invalid("\(name): must not be empty")) }
            decoded.append(value)
        }
        return .success(
            decoded.count == 1 ? .emitToUsers(event: decoded[0]) : .emitToUser(user: decoded[0], event: decoded[1]))
    }

    private static let emitShape = PublishError(
        .notFound, "no such endpoint: use POST /emit/:event or POST /emit/:userId/:event")
}
