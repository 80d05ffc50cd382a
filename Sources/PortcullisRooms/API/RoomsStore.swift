import Foundation
import PortcullisBus

/// An app's own state, as typed handles on keys under `<prefix>:app:<app>:`: a value, a
/// counter, a set of strings, a hash or a capped list of `Codable` values. A handle is
/// cheap to make; nothing is read until it is used.
///
/// ```swift
/// let history = context.store.list(Message.self, "room", roomID, "messages")
/// try await history.append(message, keepLast: 500)
/// let latest = try await history.last(50)
/// ```
///
/// Key parts are joined with `:` (`room:b1.s1:messages`). Values are stored as JSON text,
/// set members and hash fields as they are, so a backend can read and write the same keys
/// (the layouts each app documents in docs/apps.md).
public struct RoomsStore: Sendable {
    public let storage: any RoomsStorage
    /// `<prefix>:app:<app>:`.
    public let keyPrefix: String

    /// The store of `app` under `names` (``StreamNames/appKeyPrefix(app:)``: with Redis
    /// Cluster, in the app's hash slot).
    public init(storage: any RoomsStorage, names: StreamNames, app: String) {
        self.storage = storage
        self.keyPrefix = names.appKeyPrefix(app: app)
    }

    /// The store of `app` under a single server's names with `prefix` (tests, tools).
    public init(storage: any RoomsStorage, prefix: String, app: String) {
        self.init(storage: storage, names: (try? StreamNames(prefix: prefix)) ?? .standard, app: app)
    }

    /// The full Redis key of `parts`.
    public func key(_ parts: [String]) -> String {
        self.keyPrefix + parts.joined(separator: ":")
    }

    public func value<T: Codable & Sendable>(_ type: T.Type, _ parts: String...) -> Value<T> {
        Value(storage: self.storage, key: self.key(parts))
    }

    public func counter(_ parts: String...) -> Counter {
        Counter(storage: self.storage, key: self.key(parts))
    }

    public func set(_ parts: String...) -> StringSet {
        StringSet(storage: self.storage, key: self.key(parts))
    }

    public func hash<T: Codable & Sendable>(_ type: T.Type, _ parts: String...) -> Hash<T> {
        Hash(storage: self.storage, key: self.key(parts))
    }

    public func list<T: Codable & Sendable>(_ type: T.Type, _ parts: String...) -> List<T> {
        List(storage: self.storage, key: self.key(parts))
    }

    /// One JSON-encoded value.
    public struct Value<T: Codable & Sendable>: Sendable {
        let storage: any RoomsStorage
        public let key: String

        public func get() async throws -> T? {
            try await self.storage.get(self.key).map(StoredJSON.decode)
        }

        /// Stores `value`; with `onlyIfAbsent`, false when there already was one.
        @discardableResult
        public func set(_ value: T, onlyIfAbsent: Bool = false, expiresIn: Duration? = nil) async throws -> Bool {
            try await self.storage.set(
                self.key, try StoredJSON.encode(value), onlyIfAbsent: onlyIfAbsent, expiresIn: expiresIn)
        }

        public func delete() async throws {
            try await self.storage.delete([self.key])
        }
    }

    /// An integer counter (Redis `INCRBY`).
    public struct Counter: Sendable {
        let storage: any RoomsStorage
        public let key: String

        @discardableResult
        public func increment(by amount: Int = 1) async throws -> Int {
            try await self.storage.increment(self.key, by: amount)
        }

        public func get() async throws -> Int {
            try await self.storage.get(self.key).flatMap { Int($0) } ?? 0
        }
    }

    /// A set of strings (ids, connection ids).
    public struct StringSet: Sendable {
        let storage: any RoomsStorage
        public let key: String

        /// Whether `member` was new, and how many members the set has now.
        @discardableResult
        public func add(_ member: String) async throws -> (added: Bool, count: Int) {
            try await self.storage.setAdd(self.key, member)
        }

        /// Whether `member` was there, and how many members are left.
        @discardableResult
        public func remove(_ member: String) async throws -> (removed: Bool, count: Int) {
            try await self.storage.setRemove(self.key, member)
        }

        public func contains(_ member: String) async throws -> Bool {
            try await self.storage.setContains(self.key, member)
        }

        /// Every member, sorted.
        public func members() async throws -> [String] {
            try await self.storage.setMembers(self.key).sorted()
        }

        public func expire(in duration: Duration) async throws {
            try await self.storage.expire(self.key, in: duration)
        }

        public func delete() async throws {
            try await self.storage.delete([self.key])
        }
    }

    /// Fields of JSON-encoded values.
    public struct Hash<T: Codable & Sendable>: Sendable {
        let storage: any RoomsStorage
        public let key: String

        public func get(_ field: String) async throws -> T? {
            try await self.storage.hashGet(self.key, field).map(StoredJSON.decode)
        }

        public func set(_ field: String, _ value: T) async throws {
            try await self.storage.hashSet(self.key, field, try StoredJSON.encode(value))
        }

        public func all() async throws -> [String: T] {
            try await self.storage.hashGetAll(self.key).mapValues(StoredJSON.decode)
        }

        public func remove(_ field: String) async throws {
            try await self.storage.hashDelete(self.key, field)
        }

        public func expire(in duration: Duration) async throws {
            try await self.storage.expire(self.key, in: duration)
        }

        public func delete() async throws {
            try await self.storage.delete([self.key])
        }
    }

    /// A list of JSON-encoded values, newest last, optionally capped.
    public struct List<T: Codable & Sendable>: Sendable {
        let storage: any RoomsStorage
        public let key: String

        /// Appends `value`, keeping only the last `keepLast` elements when given.
        public func append(_ value: T, keepLast: Int? = nil) async throws {
            try await self.storage.listAppend(self.key, try StoredJSON.encode(value), keepLast: keepLast)
        }

        /// The last `count` elements, oldest first.
        public func last(_ count: Int) async throws -> [T] {
            try await self.storage.listLast(self.key, count).map(StoredJSON.decode)
        }

        public func delete() async throws {
            try await self.storage.delete([self.key])
        }
    }
}

/// How store handles write values: JSON text.
enum StoredJSON {
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSON.encoder.encode(value), as: UTF8.self)
    }

    /// `values` as one JSON array: a Socket.IO argument list.
    static func list(_ values: [any Encodable]) throws -> String {
        "[" + (try values.map { try Self.encode($0) }).joined(separator: ",") + "]"
    }

    static func decode<T: Decodable>(_ text: String) throws -> T {
        try JSON.decoder.decode(T.self, from: Data(text.utf8))
    }
}
