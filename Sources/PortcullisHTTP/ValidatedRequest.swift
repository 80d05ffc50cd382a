/// How a request's body is delimited, as the edge decided from its head.
public enum BodyFraming: Hashable, Sendable {
    case none
    case length(Int)
    case chunked
}

/// A request head the edge accepted, in canonical form: this is what routing, auth and
/// the upstream see.
///
/// - `target` is the normalized origin-form path plus the untouched query (or `*` for
///   `OPTIONS *`);
/// - `fields` hold exactly one `Host` (the effective authority), at most one
///   `Content-Length` or a `Transfer-Encoding: chunked`, never both, and no header the
///   listener's underscore policy removed;
/// - `upgrade` is true for a body-less request that asks to switch protocols: the
///   connection then stops parsing HTTP after it.
public struct ValidatedRequest: Hashable, Sendable {
    public var method: String
    public var target: String
    public var minorVersion: Int
    public var host: String
    public var fields: [HeaderField]
    public var framing: BodyFraming
    public var upgrade: Bool
    public var expectContinue: Bool
}
