/// Finds the known word a mistyped key or name was probably meant to be, for
/// "did you mean" hints in error messages. Public for names other conf readers check
/// against their own lists (the rooms worker's app names).
public enum Suggestion {
    /// The candidate closest to `word`: one equal to it ignoring case, `_` and `-`
    /// (`maxHeaderSize` → `max_header_size`), else the nearest by edit distance when that
    /// distance is at most a third of the word's length (at least 1).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let folded = fold(word)
        if let match = candidates.first(where: { fold($0) == folded }) {
            return match
        }
        let limit = max(1, word.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < best?.distance ?? .max {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    private static func fold(_ word: String) -> String {
        String(word.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
