import Testing

@testable import PortcullisConfig

/// The `key` / `key_file` convention for secrets, through the reader helper that future
/// secret keys will use.
@Suite struct SecretKeyTests {
    /// Reads `password` from the root mapping of `yaml` written to `main.yaml` in `conf`.
    private func readPassword(_ yaml: String, in conf: ConfDirectory) throws -> (String?, [String]) {
        let file = try conf.write("main.yaml", yaml)
        let decoder = ConfigDecoder(environment: ["SECRETS": conf.path("secrets")])
        let root = try #require(decoder.compose(yaml, file: file) ?? nil)
        let value = root.mapping { $0.secret("password") } ?? nil
        return (value, decoder.errors.map(\.description))
    }

    @Test func inlineValueIsReturned() throws {
        let conf = try ConfDirectory()
        let (value, errors) = try readPassword("password: hunter2\n", in: conf)
        #expect(value == "hunter2")
        #expect(errors == [])
    }

    @Test func fileValueIsReadRelativeToTheConfFileWithTheTrailingNewlineTrimmed() throws {
        let conf = try ConfDirectory()
        try conf.write("secrets/db", "s3cret value\n")
        let (value, errors) = try readPassword("password_file: secrets/db\n", in: conf)
        #expect(value == "s3cret value")
        #expect(errors == [])
    }

    @Test func filePathMayComeFromTheEnvironment() throws {
        let conf = try ConfDirectory()
        try conf.write("secrets/db", "from env\r\n")
        let (value, _) = try readPassword("password_file: ${SECRETS}/db\n", in: conf)
        #expect(value == "from env")
    }

    @Test func givingBothFormsIsAnErrorThatDoesNotEchoTheSecret() throws {
        let conf = try ConfDirectory()
        try conf.write("secrets/db", "s3cret")
        let (value, errors) = try readPassword("password: hunter2\npassword_file: secrets/db\n", in: conf)
        #expect(value == nil)
        #expect(
            errors == ["\(conf.path("main.yaml")):2: password_file: give either password or password_file, not both"])
        #expect(!errors.joined().contains("hunter2"))
    }

    @Test func unreadableSecretFileNamesThePathOnly() throws {
        let conf = try ConfDirectory()
        let (value, errors) = try readPassword("password_file: secrets/absent\n", in: conf)
        #expect(value == nil)
        #expect(
            errors == [
                "\(conf.path("main.yaml")):1: password_file: cannot read \(conf.path("secrets/absent")): no such file or directory"
            ]
        )
    }
}
