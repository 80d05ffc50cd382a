/// RFC 6750's `b64token`, what may follow `Bearer ` in an `Authorization` header:
/// `A-Z a-z 0-9 - . _ ~ + /`, then optional `=`s. The one home of the rule: the edge reads
/// presented tokens with it, and the configuration checks that a publish API key could
/// ever be presented.
package enum BearerTokenSyntax {
    package static func isValid(_ token: some Collection<UInt8>) -> Bool {
        let body = token.prefix { $0 != UInt8(ascii: "=") }
        return !body.isEmpty && body.allSatisfy(isCharacter)
            && token.dropFirst(body.count).allSatisfy { $0 == UInt8(ascii: "=") }
    }

    private static func isCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
