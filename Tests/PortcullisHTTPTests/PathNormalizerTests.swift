import Testing

@testable import PortcullisHTTP

@Suite struct PathNormalizerTests {
    @Test(arguments: [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/public/../admin", "/admin"),
        ("/public/%2e%2e/admin", "/admin"),
        ("/public/%2E./admin", "/admin"),
        ("/public/.%2e/admin", "/admin"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/%61%62c", "/abc"),
        ("/a%2fb", "/a%2Fb"),
        ("/a%7e", "/a~"),
        ("/a%20b", "/a%20b"),
        ("/a//b", "/a/b"),
        ("//admin", "/admin"),
        ("/a///", "/a/"),
        ("/a?x=/../y&z=%2f", "/a?x=/../y&z=%2f"),
        ("/a;v=1/b", "/a;v=1/b"),
    ])
    func pathsNormalizeAsRFC3986Says(input: String, expected: String) throws {
        #expect(try PathNormalizer.normalize(input, mergeSlashes: true).get() == expected)
    }

    @Test func withoutMergingSlashesEmptySegmentsStay() throws {
        #expect(try PathNormalizer.normalize("/a//b/../c", mergeSlashes: false).get() == "/a//c")
        #expect(try PathNormalizer.normalize("//admin", mergeSlashes: false).get() == "//admin")
    }

    @Test(arguments: [
        ("/..", "path_above_root"),
        ("/a/../..", "path_above_root"),
        ("/%2e%2e/etc/passwd", "path_above_root"),
        ("/public/..;/admin", "dot_segment_parameter"),
        ("/public/.;x/admin", "dot_segment_parameter"),
        ("/a%00b", "encoded_nul"),
        ("/a%zz", "bad_target"),
        ("/a%2", "bad_target"),
        ("/a\\b", "bad_target"),
        ("/a b", "bad_target"),
        ("/a#frag", "bad_target"),
        ("/a<b>", "bad_target"),
        ("/a?q=<", "bad_target"),
        ("a/b", "bad_target"),
    ])
    func trickyPathsAreRefused(input: String, expected: String) {
        guard case .failure(let refusal) = PathNormalizer.normalize(input, mergeSlashes: true) else {
            Issue.record("\(input) was accepted")
            return
        }
        #expect(refusal.code.description == expected)
    }

    @Test func encodedSeparatorsAreFoundOnlyInThePath() {
        #expect(PathNormalizer.containsEncodedSeparator("/public/..%2Fadmin"))
        #expect(PathNormalizer.containsEncodedSeparator("/a%5Cb"))
        #expect(!PathNormalizer.containsEncodedSeparator("/a?b=%2F"))
        #expect(!PathNormalizer.containsEncodedSeparator("/a%252F"))
    }
}
