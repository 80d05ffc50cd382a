extension MarketplaceChatApp {
    /// The app's keys, under `<prefix>:app:marketplace-chat:` (docs/apps/marketplace-chat.md
    /// documents them for backends):
    ///
    /// | key | type | holds |
    /// |---|---|---|
    /// | `room:<room_id>` | string (JSON) | the ``Room`` |
    /// | `room:<room_id>:messages` | list (JSON) | the last ``historyLimit`` ``Message``s, oldest first |
    /// | `room:<room_id>:seen` | hash | user id → that party's last `seen_messages` |
    /// | `room:<room_id>:deleted` | hash | `BUYER`/`SELLER` → `{"user_id","deleted_at"}` while hidden for that side |
    /// | `room:<room_id>:client:<client_message_id>` | string (JSON), TTL | the message stored for that client id |
    /// | `room:<room_id>:envelope:<envelope id>` | string (JSON), TTL | the same for messages without one |
    /// | `user:<user_id>:<ROLE>:rooms` | set | the party's room ids |
    /// | `user:<user_id>:<ROLE>:sockets` | set, TTL | the party's connected socket ids |
    struct Store: Sendable {
        let store: RoomsStore

        init(_ store: RoomsStore) {
            self.store = store
        }

        func room(_ id: String) -> RoomsStore.Value<Room> {
            self.store.value(Room.self, "room", id)
        }

        func messages(_ room: String) -> RoomsStore.List<Message> {
            self.store.list(Message.self, "room", room, "messages")
        }

        func readMarkers(_ room: String) -> RoomsStore.Hash<JSON> {
            self.store.hash(JSON.self, "room", room, "seen")
        }

        func deletions(_ room: String) -> RoomsStore.Hash<JSON> {
            self.store.hash(JSON.self, "room", room, "deleted")
        }

        /// The message stored for a client's `client_message_id` (its decimal or string form).
        func sent(_ room: String, clientMessageID: String) -> RoomsStore.Value<Message> {
            self.store.value(Message.self, "room", room, "client", clientMessageID)
        }

        /// The message stored for an inbound envelope, so that a redelivered envelope is not
        /// stored twice when the client gave no id of its own.
        func sent(_ room: String, envelope: String) -> RoomsStore.Value<Message> {
            self.store.value(Message.self, "room", room, "envelope", envelope)
        }

        func rooms(of party: Party) -> RoomsStore.StringSet {
            self.store.set("user", party.user, party.role.rawValue, "rooms")
        }

        func sockets(of party: Party) -> RoomsStore.StringSet {
            self.store.set("user", party.user, party.role.rawValue, "sockets")
        }
    }
}
