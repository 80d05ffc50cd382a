/// What a listener does with header names holding `_`, which CGI-style stacks (WSGI,
/// Rack, PHP) read as the same header as the `-` spelling.
public enum UnderscoreHeaders: String, Hashable, Sendable, CaseIterable {
    /// Forwarded, except those that collide with a header the edge sets (always removed).
    case keep
    /// Every such header is removed (nginx's `underscores_in_headers off`).
    case drop
    /// A request with one is refused with 400 (Envoy's `REJECT_REQUEST`).
    case reject
}

/// The per-listener rules ``RequestValidator`` applies to every request head.
public struct RequestPolicy: Hashable, Sendable {
    public var limits: HeadLimits
    public var mergeSlashes: Bool
    public var underscoreHeaders: UnderscoreHeaders
    /// The `Host` given to HTTP/1.0 requests that sent none.
    public var defaultHost: String

    public init(
        limits: HeadLimits = HeadLimits(), mergeSlashes: Bool = true, underscoreHeaders: UnderscoreHeaders = .keep,
        defaultHost: String = "localhost"
    ) {
        self.limits = limits
        self.mergeSlashes = mergeSlashes
        self.underscoreHeaders = underscoreHeaders
        self.defaultHost = defaultHost
    }
}
