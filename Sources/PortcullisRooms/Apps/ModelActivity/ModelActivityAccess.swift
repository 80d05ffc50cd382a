/// Which models exist and who may read them, as the product's backend mirrors its ACL into
/// the app's keys (Redis sets, so a backend writes them with `SADD`/`SREM`):
///
/// - `<prefix>:app:model-activity:models`: every model, as `<teamspace>:<project>:<model>`;
/// - `<prefix>:app:model-activity:model:<teamspace>:<project>:<model>:members`: the ids of
///   the users who may read that model (teamspace admins and project admins included:
///   the backend resolves roles into this set).
///
/// Looked up on every `join` (two `SISMEMBER`), so a permission the backend removes stops
/// new joins at once; sockets already in the room stay until the backend publishes a
/// `leave` for them (docs/apps/model-activity.md).
struct ModelActivityAccess: Sendable {
    let store: RoomsStore

    var models: RoomsStore.StringSet {
        self.store.set("models")
    }

    func members(of model: ModelActivityRoom.ModelID) -> RoomsStore.StringSet {
        self.store.set("model", model.key, "members")
    }

    func exists(_ model: ModelActivityRoom.ModelID) async throws -> Bool {
        try await self.models.contains(model.key)
    }

    /// Why `user` may not join `model`'s room (an unknown model, then no read access); nil
    /// when it may.
    func refusal(user: String, model: ModelActivityRoom.ModelID) async throws -> ModelActivityError? {
        guard try await self.exists(model) else { return .modelNotFound }
        guard try await self.members(of: model).contains(user) else { return .noAccess }
        return nil
    }
}
