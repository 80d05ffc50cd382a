import PortcullisWire
import Testing

@Suite struct UTF8StreamValidatorTests {
    static let invalidSequences: [[UInt8]] = [
        [0xC0, 0x80],  // overlong NUL, C0 never valid
        [0xC1, 0xBF],  // overlong, C1 never valid
        [0xE0, 0x80, 0x80],  // overlong 3-byte
        [0xE0, 0x9F, 0xBF],  // overlong 3-byte, upper edge
        [0xF0, 0x80, 0x80, 0x80],  // overlong 4-byte
        [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte, upper edge
        [0xED, 0xA0, 0x80],  // U+D800 high surrogate
        [0xED, 0xBF, 0xBF],  // U+DFFF low surrogate
        [0xF4, 0x90, 0x80, 0x80],  // U+110000
        [0xF5, 0x80, 0x80, 0x80],
        [0xFE],
        [0xFF],
        [0x80],  // stray continuation
        [0xBF],
        [0xC2, 0x41],  // lead byte then ASCII
        [0xE2, 0x82],  // truncated at end
        [0xF0, 0x9F, 0x98],  // truncated 4-byte
    ]

    @Test(arguments: invalidSequences)
    func invalidSequenceIsRejected(_ bytes: [UInt8]) {
        #expect(!UTF8StreamValidator.isValid(bytes))
    }

    @Test(arguments: ["", "hello", "κόσμε", "€", "\u{10FFFF}", "\u{FFFD}", "😀 emoji", "\u{D7FF}\u{E000}"])
    func validTextIsAccepted(_ text: String) {
        #expect(UTF8StreamValidator.isValid(Array(text.utf8)))
    }

    @Test func codePointSplitAtEveryPositionStillValidates() {
        let bytes = Array("a😀€κ\u{10FFFF}z".utf8)
        for split in 0...bytes.count {
            var validator = UTF8StreamValidator()
            let firstAccepted = validator.validate(bytes[..<split])
            let secondAccepted = validator.validate(bytes[split...])
            #expect(firstAccepted && secondAccepted && validator.isAtBoundary, "split at \(split)")
        }
    }

    @Test func firstInvalidByteFailsBeforeTheRestArrives() {
        var validator = UTF8StreamValidator()
        let prefixAccepted = validator.validate([0xCE, 0xBA])
        let surrogateAccepted = validator.validate([0xED, 0xA0])
        #expect(prefixAccepted)
        #expect(!surrogateAccepted)
    }
}
