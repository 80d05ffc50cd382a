import Testing

@testable import PortcullisHTTP

func validate(_ text: String, policy: RequestPolicy = RequestPolicy()) -> Result<ValidatedRequest, RequestRefusal> {
    parseHead(text, limits: policy.limits).flatMap { RequestValidator.validate($0, policy: policy) }
}

func code(_ result: Result<ValidatedRequest, RequestRefusal>) -> String? {
    if case .failure(let refusal) = result { return refusal.code.description }
    return nil
}

@Suite struct RequestValidatorTests {
    @Test(arguments: [
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "duplicate_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", "bad_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", "bad_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "bad_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", "bad_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", "bad_content_length"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", "bad_content_length"),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "length_with_transfer_encoding"
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", "unsupported_transfer_coding"),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "unsupported_transfer_coding"),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported_transfer_coding"),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "unsupported_transfer_coding"),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", "unsupported_transfer_coding"),
        ("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "transfer_encoding_http10"),
        ("GET / HTTP/1.1\r\n\r\n", "missing_host"),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "duplicate_host"),
        ("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", "bad_host"),
        ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "bad_host"),
        ("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", "bad_host"),
        ("GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", "bad_host"),
        ("GET / HTTP/1.1\r\nHost:\r\n\r\n", "bad_host"),
        ("GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n", "host_mismatch"),
        ("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", "bad_host"),
        ("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", "bad_target"),
        ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "method_not_allowed"),
        ("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", "method_not_allowed"),
        ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", "bad_target"),
        ("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", "bad_target"),
        ("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", "unsupported_expectation"),
    ])
    func ambiguousOrForbiddenHeadsAreRefused(head: String, expected: String) {
        #expect(code(validate(head)) == expected)
    }

    @Test func unsupportedTransferCodingsAre501AndAbsentHostIs400() throws {
        let gzip = validate("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        #expect(gzip.failure?.status == 501)
        #expect(validate("GET / HTTP/1.1\r\n\r\n").failure?.status == 400)
        #expect(validate("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n").failure?.status == 405)
    }

    @Test func theCanonicalHeadHasOneHostAndTheEdgesOwnFraming() throws {
        let request = try validate(
            "POST /x HTTP/1.1\r\nhost: A.test\r\ncontent-length: 007\r\nX-A: 1\r\n\r\n"
        ).get()
        #expect(request.host == "A.test")
        #expect(request.framing == .length(7))
        #expect(
            request.fields == [
                HeaderField(name: "Host", value: "A.test"), HeaderField(name: "X-A", value: "1"),
                HeaderField(name: "Content-Length", value: "7"),
            ])
        let chunked = try validate("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n").get()
        #expect(chunked.framing == .chunked)
        #expect(chunked.fields.last == HeaderField(name: "Transfer-Encoding", value: "chunked"))
    }

    @Test func anHTTP10RequestWithoutHostGetsTheListenersServerName() throws {
        let request = try validate("GET / HTTP/1.0\r\n\r\n", policy: RequestPolicy(defaultHost: "edge.test")).get()
        #expect(request.host == "edge.test")
        #expect(request.fields.first == HeaderField(name: "Host", value: "edge.test"))
    }

    @Test func anAbsoluteFormTargetRoutesOnItsAuthorityAndBecomesAPath() throws {
        let request = try validate("GET HTTP://a.test:80/p/../q?x=1 HTTP/1.1\r\nHost: A.TEST\r\n\r\n").get()
        #expect(request.host == "a.test:80")
        #expect(request.target == "/q?x=1")
        let bare = try validate("GET http://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n").get()
        #expect(bare.target == "/")
    }

    @Test func anHTTP10ClientIsNeverPromisedA100Continue() throws {
        let request = try validate("PUT / HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
            .get()
        #expect(!request.expectContinue)
        #expect(!request.fields.contains { $0.hasName("expect") })
    }

    @Test func optionsAsteriskIsAcceptedAndOnlyForOptions() throws {
        #expect(try validate("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").get().target == "*")
    }

    @Test func underscoreHeadersFollowTheListenerPolicy() throws {
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX_Auth_Subject: admin\r\nX-B: 1\r\n\r\n"
        let kept = try validate(head).get()
        #expect(kept.fields.contains(HeaderField(name: "X_Auth_Subject", value: "admin")))
        let dropped = try validate(head, policy: RequestPolicy(underscoreHeaders: .drop)).get()
        #expect(!dropped.fields.contains { $0.name.contains("_") })
        #expect(code(validate(head, policy: RequestPolicy(underscoreHeaders: .reject))) == "underscore_header")
    }

    @Test func upgradeIsHonouredOnlyForBodylessRequestsThatNominateIt() throws {
        let websocket = try validate(
            "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
        ).get()
        #expect(websocket.upgrade)
        let withBody = try validate(
            "POST /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\n"
        ).get()
        #expect(!withBody.upgrade)
        #expect(!withBody.fields.contains { $0.hasName("upgrade") })
        let notNominated = try validate("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").get()
        #expect(!notNominated.upgrade)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
