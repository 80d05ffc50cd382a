/// Size and count bounds for a request head (and a chunked body's trailers).
public struct HeadLimits: Hashable, Sendable {
    /// Longest request line, CRLF excluded; longer gets 414.
    public var maxRequestLine: Int
    /// Largest head (request line, fields, CRLFs); larger gets 431.
    public var maxHeadSize: Int
    /// Most header fields; more gets 431.
    public var maxFields: Int

    public init(maxRequestLine: Int = 8 * 1024, maxHeadSize: Int = 32 * 1024, maxFields: Int = 100) {
        self.maxRequestLine = maxRequestLine
        self.maxHeadSize = maxHeadSize
        self.maxFields = maxFields
    }
}
