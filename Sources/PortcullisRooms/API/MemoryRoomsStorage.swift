import Foundation

/// ``RoomsStorage`` in memory, for an app's unit tests (``InMemoryBus`` uses one): the
/// same answers as Redis, including expiry, read against a clock the test controls.
public final class MemoryRoomsStorage: RoomsStorage, @unchecked Sendable {
    private enum Value {
        case string(String)
        case set(Set<String>)
        case hash([String: String])
        case list([String])
    }

    private let lock = NSLock()
    private var values: [String: Value] = [:]
    private var deadlines: [String: ContinuousClock.Instant] = [:]
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
    }

    /// Every live key, sorted: what a test checks an app left behind.
    public var keys: [String] {
        self.lock.withLock {
            self.removeExpired()
            return self.values.keys.sorted()
        }
    }

    public func get(_ key: String) async throws -> String? {
        try self.access(key) { value in
            guard case .string(let text) = value else { return nil }
            return text
        }
    }

    @discardableResult
    public func set(_ key: String, _ value: String, onlyIfAbsent: Bool, expiresIn: Duration?) async throws -> Bool {
        self.lock.withLock {
            self.removeExpired()
            if onlyIfAbsent, self.values[key] != nil { return false }
            self.values[key] = .string(value)
            self.deadlines[key] = expiresIn.map { self.now().advanced(by: $0) }
            return true
        }
    }

    public func delete(_ keys: [String]) async throws {
        self.lock.withLock {
            for key in keys {
                self.values[key] = nil
                self.deadlines[key] = nil
            }
        }
    }

    public func increment(_ key: String, by amount: Int) async throws -> Int {
        try self.update(key) { value in
            let current: Int
            switch value {
            case nil: current = 0
            case .string(let text):
                guard let number = Int(text) else { throw MemoryStorageError.notAnInteger(key) }
                current = number
            default: throw MemoryStorageError.wrongType(key)
            }
            value = .string(String(current + amount))
            return current + amount
        }
    }

    public func expire(_ key: String, in duration: Duration) async throws {
        self.lock.withLock {
            self.removeExpired()
            if self.values[key] != nil { self.deadlines[key] = self.now().advanced(by: duration) }
        }
    }

    public func setAdd(_ key: String, _ member: String) async throws -> (added: Bool, count: Int) {
        try self.updateSet(key) { $0.insert(member).inserted }
    }

    public func setRemove(_ key: String, _ member: String) async throws -> (removed: Bool, count: Int) {
        try self.updateSet(key) { $0.remove(member) != nil }
    }

    public func setMembers(_ key: String) async throws -> [String] {
        try self.access(key) { value in
            guard case .set(let members) = value else { return [] }
            return members.sorted()
        }
    }

    public func setContains(_ key: String, _ member: String) async throws -> Bool {
        try self.access(key) { value in
            guard case .set(let members) = value else { return false }
            return members.contains(member)
        }
    }

    public func hashSet(_ key: String, _ field: String, _ value: String) async throws {
        try self.update(key) { stored in
            guard case .hash(var fields) = stored ?? .hash([:]) else { throw MemoryStorageError.wrongType(key) }
            fields[field] = value
            stored = .hash(fields)
        }
    }

    public func hashGet(_ key: String, _ field: String) async throws -> String? {
        try await self.hashGetAll(key)[field]
    }

    public func hashGetAll(_ key: String) async throws -> [String: String] {
        try self.access(key) { value in
            guard case .hash(let fields) = value else { return [:] }
            return fields
        }
    }

    public func hashDelete(_ key: String, _ field: String) async throws {
        try self.update(key) { stored in
            guard case .hash(var fields) = stored else { return }
            fields[field] = nil
            stored = fields.isEmpty ? nil : .hash(fields)
        }
    }

    public func listAppend(_ key: String, _ value: String, keepLast: Int?) async throws {
        try self.update(key) { stored in
            guard case .list(var elements) = stored ?? .list([]) else { throw MemoryStorageError.wrongType(key) }
            elements.append(value)
            if let keepLast, elements.count > max(1, keepLast) {
                elements.removeFirst(elements.count - max(1, keepLast))
            }
            stored = .list(elements)
        }
    }

    public func listLast(_ key: String, _ count: Int) async throws -> [String] {
        try self.access(key) { value in
            guard case .list(let elements) = value, count > 0 else { return [] }
            return Array(elements.suffix(count))
        }
    }

    private func updateSet(_ key: String, _ change: (inout Set<String>) -> Bool) throws -> (Bool, Int) {
        try self.update(key) { stored in
            guard case .set(var members) = stored ?? .set([]) else { throw MemoryStorageError.wrongType(key) }
            let changed = change(&members)
            stored = members.isEmpty ? nil : .set(members)
            return (changed, members.count)
        }
    }

    private func access<T>(_ key: String, _ read: (Value?) throws -> T) throws -> T {
        try self.lock.withLock {
            self.removeExpired()
            return try read(self.values[key])
        }
    }

    /// Runs `change` on the key's value; a value left nil deletes the key, as Redis drops
    /// empty sets, hashes and lists.
    private func update<T>(_ key: String, _ change: (inout Value?) throws -> T) throws -> T {
        try self.lock.withLock {
            self.removeExpired()
            var value = self.values[key]
            let result = try change(&value)
            self.values[key] = value
            if value == nil { self.deadlines[key] = nil }
            return result
        }
    }

    private func removeExpired() {
        let now = self.now()
        for (key, deadline) in self.deadlines where deadline <= now {
            self.values[key] = nil
            self.deadlines[key] = nil
        }
    }
}

/// What Redis would answer `WRONGTYPE` or `ERR value is not an integer` to.
public enum MemoryStorageError: Error, Sendable, Hashable {
    case wrongType(String)
    case notAnInteger(String)
}
