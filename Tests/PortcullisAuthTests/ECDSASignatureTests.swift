import Testing

@testable import PortcullisAuth

@Suite struct ECDSASignatureTests {
    @Test(arguments: [32, 48, 66])
    func rawAndDERRoundTrip(size: Int) {
        let shapes: [[UInt8]] = [
            SecureRandom.bytes(2 * size),
            [UInt8](repeating: 0xFF, count: 2 * size),  // high bit set: DER needs a 0x00 pad
            // Leading zeros in R and S: minimal DER drops them, R‖S restores them.
            [UInt8](repeating: 0, count: size - 1) + [1] + [0, 0, 0x80] + [UInt8](repeating: 7, count: size - 3),
        ]
        for raw in shapes {
            let der = ECDSASignature.der(fromRaw: raw, coordinateSize: size)
            #expect(der != nil)
            #expect(ECDSASignature.raw(fromDER: der!, coordinateSize: size) == raw)
        }
    }

    @Test func wrongLengthsAreRefused() {
        #expect(ECDSASignature.der(fromRaw: [UInt8](repeating: 1, count: 63), coordinateSize: 32) == nil)
        #expect(ECDSASignature.der(fromRaw: [UInt8](repeating: 1, count: 96), coordinateSize: 32) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x00], coordinateSize: 32) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x03, 0x02, 0x01, 0x01], coordinateSize: 32) == nil)
    }

    @Test(arguments: [JWTAlgorithm.es256, .es384, .es512])
    func openSSLSignaturesConvertToJOSEAndVerify(algorithm: JWTAlgorithm) throws {
        let generated = try KeyGenerator.generate(algorithm)
        let key = try EVPKey.privateKey(pem: generated.privateMaterial)
        let message = Array("header.payload".utf8)
        for _ in 0..<20 {
            let der = try key.sign(message: message, digest: algorithm.digest)
            let raw = try #require(ECDSASignature.raw(fromDER: der, coordinateSize: algorithm.coordinateSize))
            #expect(raw.count == 2 * algorithm.coordinateSize)
            let back = try #require(ECDSASignature.der(fromRaw: raw, coordinateSize: algorithm.coordinateSize))
            #expect(back == der)
            #expect(message.withUnsafeBytes { key.verify(signature: back, message: $0, digest: algorithm.digest) })
        }
    }
}
