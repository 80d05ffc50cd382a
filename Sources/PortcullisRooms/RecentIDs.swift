/// A bounded set of recently handled envelope ids: the first, in-process dedup layer in
/// front of the Redis `seen` keys. When full, the oldest id is forgotten (FIFO), so memory
/// stays at `capacity` ids whatever the traffic.
struct RecentIDs {
    let capacity: Int
    private var members: Set<String> = []
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func contains(_ id: String) -> Bool {
        self.members.contains(id)
    }

    mutating func insert(_ id: String) {
        guard self.members.insert(id).inserted else { return }
        if self.order.count < self.capacity {
            self.order.append(id)
        } else {
            self.members.remove(self.order[self.oldest])
            self.order[self.oldest] = id
            self.oldest = (self.oldest + 1) % self.capacity
        }
    }

    var count: Int { self.members.count }
}
