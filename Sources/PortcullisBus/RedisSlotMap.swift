/// Which master serves each of the 16384 hash slots, read from `CLUSTER SLOTS` and patched
/// by `-MOVED` replies until the next full read. A slot nobody serves (a cluster that is
/// still forming, or lost a master without replica) has no owner.
struct RedisSlotMap: Hashable {
    /// The masters, in the order `CLUSTER SLOTS` first names them.
    private(set) var masters: [RedisConfiguration.Endpoint] = []
    /// For each slot, its master's index in ``masters``, or -1.
    private var owners = [Int16](repeating: -1, count: RedisKeySlot.count)

    init() {}

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    /// An empty host (a node that does not know its own address) means `node`'s, the host
    /// that answered.
    init(clusterSlots reply: RESPValue, from node: RedisConfiguration.Endpoint) throws {
        for range in try reply.expectArray() {
            let items = try range.expectArray()
            guard items.count >= 3, let start = items[0].integer, let end = items[1].integer,
                0 <= start, start <= end, end < RedisKeySlot.count,
                let master = items[2].array, master.count >= 2, let host = master[0].string,
                let port = master[1].integer
            else {
                throw RedisError.unexpectedReply(range, expected: "a CLUSTER SLOTS range")
            }
            let endpoint = RedisConfiguration.Endpoint.tcp(host: host.isEmpty ? node.host ?? host : host, port: port)
            self.assign(start...end, to: endpoint)
        }
    }

    /// The master serving `slot`, if any.
    func master(for slot: Int) -> RedisConfiguration.Endpoint? {
        let index = self.owners[slot]
        return index < 0 ? nil : self.masters[Int(index)]
    }

    /// Whether every slot has a master.
    var coversEverySlot: Bool { !self.owners.contains(-1) }

    /// Records that `slots` are served by `endpoint` (a full read, or a `-MOVED`).
    mutating func assign(_ slots: ClosedRange<Int>, to endpoint: RedisConfiguration.Endpoint) {
        let index: Int
        if let known = self.masters.firstIndex(of: endpoint) {
            index = known
        } else {
            index = self.masters.count
            self.masters.append(endpoint)
        }
        for slot in slots {
            self.owners[slot] = Int16(index)
        }
    }
}
