/// A room of the `model-activity` app, as a client names it in `join` and `leave`:
/// `{"notifications": true}` (the user's own notifications) or
/// `{"teamspace": T, "project": P, "model": M}` (one container's or federation's activity).
///
/// Room names are what backends target on the bus (`to room`): `notifications::<user>` and
/// `model::<teamspace>::<project>::<model>`. The kind comes first, so no user id (a JWT
/// `sub` may hold colons) can name a model's room; model ids may not contain `:`, so two
/// models never share a room name or an ACL key.
enum ModelActivityRoom: Sendable, Hashable {
    case notifications
    case model(ModelID)

    /// A container or federation, by teamspace, project id and model id.
    struct ModelID: Sendable, Hashable {
        var teamspace: String
        var project: String
        var model: String

        /// `<teamspace>:<project>:<model>`: the member of the models set and the middle of the
        /// model's members key.
        var key: String { "\(self.teamspace):\(self.project):\(self.model)" }
    }

    /// The longest id accepted, in UTF-8 bytes (UUIDs are 36, teamspace names shorter).
    static let maximumIDLength = 256

    /// The room `data` names. A value that is not an object, or a known member of the wrong
    /// type, is malformed; an object that names neither room kind (`{}`,
    /// `{"notifications": false}`, a model without its project) cannot be identified, as the
    /// product answers it. `notifications: true` wins over model members, as in the product.
    static func parse(_ data: JSON?) -> Result<ModelActivityRoom, ModelActivityError> {
        guard let members = data?.object else {
            return .failure(.invalidArguments("The data must be an object"))
        }
        if let notifications = members["notifications"], notifications != .null {
            guard let flag = notifications.bool else {
                return .failure(.invalidArguments("notifications must be true or false"))
            }
            if flag { return .success(.notifications) }
        }
        var ids: [String: String] = [:]
        for name in ["teamspace", "project", "model"] {
            guard let value = members[name], value != .null else { continue }
            guard let id = value.string, Self.isValidID(id) else {
                return .failure(
                    .invalidArguments(
                        "\(name) must be a non-empty string of at most \(Self.maximumIDLength) bytes without ':'"))
            }
            ids[name] = id
        }
        guard let teamspace = ids["teamspace"], let project = ids["project"], let model = ids["model"] else {
            return .failure(.roomNotFound("Cannot identify the room indicated"))
        }
        return .success(.model(ModelID(teamspace: teamspace, project: project, model: model)))
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= Self.maximumIDLength && !id.contains(":")
    }

    /// The room's name on the bus; `user` is the socket's verified subject.
    func name(user: String) -> String {
        switch self {
        case .notifications: Self.notificationsRoom(user: user)
        case .model(let id): Self.modelRoom(id)
        }
    }

    static func notificationsRoom(user: String) -> String {
        "notifications::\(user)"
    }

    static func modelRoom(_ id: ModelID) -> String {
        "model::\(id.teamspace)::\(id.project)::\(id.model)"
    }
}
