/// Why the edge refused a request before it could reach a backend, and how it answers.
///
/// The code is a bounded label (metrics and logs use it as is); the status is what the
/// client gets; `detail` is a short human sentence for the log line. Every refusal closes
/// the client connection: once a request is in doubt, so is where the next one starts.
public struct RequestRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badRequestLine = "bad_request_line"
            case badVersion = "bad_version"
            case requestLineTooLong = "request_line_too_long"
            case headTooLarge = "head_too_large"
            case tooManyHeaders = "too_many_headers"
            case badLineEnding = "bad_line_ending"
            case obsFold = "obs_fold"
            case badHeaderName = "bad_header_name"
            case badHeaderValue = "bad_header_value"
            case underscoreHeader = "underscore_header"
            case badContentLength = "bad_content_length"
            case duplicateContentLength = "duplicate_content_length"
            case lengthWithTransferEncoding = "length_with_transfer_encoding"
            case unsupportedTransferCoding = "unsupported_transfer_coding"
            case transferEncodingInHTTP10 = "transfer_encoding_http10"
            case badChunk = "bad_chunk"
            case badTrailer = "bad_trailer"
            case missingHost = "missing_host"
            case duplicateHost = "duplicate_host"
            case badHost = "bad_host"
            case hostMismatch = "host_mismatch"
            case badTarget = "bad_target"
            case methodNotAllowed = "method_not_allowed"
            case pathAboveRoot = "path_above_root"
            case encodedSlash = "encoded_slash"
            case encodedNul = "encoded_nul"
            case dotSegmentParameter = "dot_segment_parameter"
            case unsupportedExpectation = "unsupported_expectation"
            case proxyProtocol = "proxy_protocol"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let badRequestLine = Code(.badRequestLine)
        public static let badVersion = Code(.badVersion)
        public static let requestLineTooLong = Code(.requestLineTooLong)
        public static let headTooLarge = Code(.headTooLarge)
        public static let tooManyHeaders = Code(.tooManyHeaders)
        public static let badLineEnding = Code(.badLineEnding)
        public static let obsFold = Code(.obsFold)
        public static let badHeaderName = Code(.badHeaderName)
        public static let badHeaderValue = Code(.badHeaderValue)
        public static let underscoreHeader = Code(.underscoreHeader)
        public static let badContentLength = Code(.badContentLength)
        public static let duplicateContentLength = Code(.duplicateContentLength)
        public static let lengthWithTransferEncoding = Code(.lengthWithTransferEncoding)
        public static let unsupportedTransferCoding = Code(.unsupportedTransferCoding)
        public static let transferEncodingInHTTP10 = Code(.transferEncodingInHTTP10)
        public static let badChunk = Code(.badChunk)
        public static let badTrailer = Code(.badTrailer)
        public static let missingHost = Code(.missingHost)
        public static let duplicateHost = Code(.duplicateHost)
        public static let badHost = Code(.badHost)
        public static let hostMismatch = Code(.hostMismatch)
        public static let badTarget = Code(.badTarget)
        public static let methodNotAllowed = Code(.methodNotAllowed)
        public static let pathAboveRoot = Code(.pathAboveRoot)
        public static let encodedSlash = Code(.encodedSlash)
        public static let encodedNul = Code(.encodedNul)
        public static let dotSegmentParameter = Code(.dotSegmentParameter)
        public static let unsupportedExpectation = Code(.unsupportedExpectation)
        public static let proxyProtocol = Code(.proxyProtocol)

        /// The label used in metrics and logs, e.g. `duplicate_content_length`.
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The HTTP status the client receives (400, 405, 414, 417, 431, 501 or 505).
    public let status: Int
    public let detail: String

    public init(_ code: Code, status: Int = 400, _ detail: String) {
        self.code = code
        self.status = status
        self.detail = detail
    }

    public var description: String { "\(status) \(code): \(detail)" }
}
