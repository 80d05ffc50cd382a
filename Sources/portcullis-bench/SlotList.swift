/// An object that remembers its index in a ``SlotList``.
protocol Slotted: AnyObject {
    var slot: Int { get set }
}

/// An unordered list with constant-time removal: the last element moves into the gap and
/// its `slot` is updated. For the thousands of connections a pool or hub holds, where
/// order does not matter but every close must not scan the whole list.
struct SlotList<Element: Slotted>: Sequence {
    private(set) var elements: [Element] = []

    var count: Int { self.elements.count }
    var isEmpty: Bool { self.elements.isEmpty }
    var first: Element? { self.elements.first }
    var last: Element? { self.elements.last }

    subscript(index: Int) -> Element { self.elements[index] }

    mutating func append(_ element: Element) {
        element.slot = self.elements.count
        self.elements.append(element)
    }

    /// Removes `element` if it is in the list; false when it was not (already removed).
    @discardableResult
    mutating func remove(_ element: Element) -> Bool {
        let slot = element.slot
        guard slot >= 0, slot < self.elements.count, self.elements[slot] === element else { return false }
        let last = self.elements.removeLast()
        if slot < self.elements.count {
            self.elements[slot] = last
            last.slot = slot
        }
        element.slot = -1
        return true
    }

    func makeIterator() -> IndexingIterator<[Element]> {
        self.elements.makeIterator()
    }
}
