import NIOHTTP1
import PortcullisHTTP

extension HTTPHeaders {
    /// Removes every header named in `names` (lower-case) in one pass over the headers,
    /// instead of a `contains` scan per name: the proxy strips a dozen names from every
    /// request and response, and most are absent.
    mutating func removeAll(named names: [String]) {
        var present: [String] = []
        for (name, _) in self {
            for candidate in names where name.equalsASCIICaseInsensitive(candidate) && !present.contains(candidate) {
                present.append(candidate)
            }
        }
        for name in present { remove(name: name) }
    }
}
