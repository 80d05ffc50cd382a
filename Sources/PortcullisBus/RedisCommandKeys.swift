/// Which arguments of a command are keys, so that a cluster client can send the command to
/// the master owning their slot. Covers the commands this package and its users send;
/// anything else is taken to have its key right after the name (`GET key`, `XADD key …`).
///
/// A command whose keys live in different slots cannot run on a cluster (`-CROSSSLOT`):
/// ``slot(of:)`` stops a debug build on one, so a key-naming mistake shows in tests, and
/// routes by the first key otherwise.
enum RedisCommandKeys {
    /// The command's keys, in order; empty for keyless commands (`PING`, `CLUSTER SLOTS`).
    static func keys(of command: [RedisArgument]) -> ArraySlice<RedisArgument> {
        guard let first = command.first else { return [] }
        switch Self.capitals(first.description) {
        case "PING", "INFO", "CLUSTER", "ROLE", "ASKING", "READONLY", "SCAN", "KEYS", "DBSIZE", "FLUSHALL",
            "FLUSHDB", "SCRIPT", "CLIENT", "CONFIG", "TIME", "ECHO", "AUTH", "SELECT", "HELLO", "COMMAND",
            "FUNCTION", "WAIT", "MULTI", "EXEC", "DISCARD", "SENTINEL":
            return []
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard command.count > 2, let count = Int(command[2].description), count > 0 else { return [] }
            return command.dropFirst(3).prefix(count)
        case "XREAD", "XREADGROUP":
            guard let streams = command.firstIndex(where: { Self.capitals($0.description) == "STREAMS" }) else {
                return []
            }
            let rest = command[(streams + 1)...]
            return rest.prefix(rest.count / 2)
        case "XINFO", "XGROUP", "OBJECT", "MEMORY":
            return command.dropFirst(2).prefix(1)
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF", "PFCOUNT":
            return command.dropFirst()
        default:
            return command.dropFirst().prefix(1)
        }
    }

    /// The slot of the command's keys, or nil for a keyless command. Debug builds stop when
    /// the keys span several slots; release builds route by the first key.
    static func slot(of command: [RedisArgument]) -> Int? {
        let keys = Self.keys(of: command)
        guard let first = keys.first else { return nil }
        let slot = first.keySlot
        assert(
            keys.allSatisfy { $0.keySlot == slot },
            "\(command.first!) touches keys of several cluster slots: \(keys.map(\.description))")
        return slot
    }

    /// `word` in capitals; as it is when it already is (our commands are written so), which
    /// spares an allocation per command.
    private static func capitals(_ word: String) -> String {
        word.utf8.contains { UInt8(ascii: "a") <= $0 && $0 <= UInt8(ascii: "z") } ? word.uppercased() : word
    }
}
