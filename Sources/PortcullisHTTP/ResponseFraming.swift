/// The framing rules an upstream's response head must meet before the edge relays it
/// (RFC 9112 §6.3): one `Content-Length` of digits, or `Transfer-Encoding` ending in a
/// single `chunked`, never both. A response that breaks them is answered with 502 and
/// its connection is never reused: where it ends is in doubt.
public enum ResponseFraming {
    /// nil when the head is acceptable, else why not.
    public static func problem<Fields: Sequence>(in fields: Fields, status: Int) -> String?
    where Fields.Element == (name: String, value: String) {
        var lengths = 0
        var lengthValue: Substring = ""
        var codings: [Substring] = []
        var sawTransferEncoding = false
        for (name, value) in fields {
            if name.equalsASCIICaseInsensitive("content-length") {
                lengths += 1
                lengthValue = value.trimmingWhitespace()
            } else if name.equalsASCIICaseInsensitive("transfer-encoding") {
                sawTransferEncoding = true
                for element in value.split(separator: ",") {
                    let coding = element.trimmingWhitespace()
                    if !coding.isEmpty { codings.append(coding) }
                }
            }
        }
        // 1xx, 204 and 304 carry no body whatever their fields say.
        if status < 200 || status == 204 || status == 304 { return nil }
        if sawTransferEncoding {
            if lengths > 0 { return "both Content-Length and Transfer-Encoding" }
            guard codings.count == 1, codings[0].equalsASCIICaseInsensitive("chunked") else {
                return "Transfer-Encoding other than chunked"
            }
            return nil
        }
        if lengths > 1 { return "more than one Content-Length" }
        if lengths == 1,
            !((1...15).contains(lengthValue.utf8.count) && lengthValue.utf8.allSatisfy(ByteClass.isDigit))
        {
            return "Content-Length is not a number of digits"
        }
        return nil
    }
}
