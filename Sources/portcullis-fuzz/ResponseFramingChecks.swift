import PortcullisHTTP

/// Invariants of ``ResponseFraming``, fed with parsed request fields (the same field
/// syntax an upstream's response head has): body-less statuses are never a problem, and
/// the response rules accept whatever framing the request rules accepted, so the edge
/// never refuses from a backend what it would have sent to one.
enum ResponseFramingChecks {
    static func check(_ fields: [HeaderField], status: Int) {
        let problem = ResponseFraming.problem(in: pairs(fields), status: status)
        if status < 200 || status == 204 || status == 304 {
            precondition(problem == nil, "a \(status) response has no body, so no framing problem")
        }
        if ResponseFraming.problem(in: pairs(fields), status: 200) == nil {
            let lengths = fields.filter { $0.hasName("content-length") }
            let codings = fields.filter { $0.hasName("transfer-encoding") }
            precondition(lengths.count <= 1, "two Content-Length fields passed")
            precondition(lengths.isEmpty || codings.isEmpty, "Content-Length and Transfer-Encoding passed")
        }
    }

    static func checkAccepted(head: RequestHead, request: ValidatedRequest) {
        precondition(
            ResponseFraming.problem(in: pairs(head.fields), status: 200) == nil,
            "response framing refuses fields the request validator accepted")
        precondition(
            ResponseFraming.problem(in: pairs(request.fields), status: 200) == nil,
            "response framing refuses a canonical request's fields")
    }

    private static func pairs(_ fields: [HeaderField]) -> [(name: String, value: String)] {
        fields.map { (name: $0.name, value: $0.value) }
    }
}
