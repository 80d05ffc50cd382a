import PortcullisConfig
import Testing

/// `tls.profile` picks the listener's protocol versions and suites, in both `tls:` forms.
@Suite struct TLSProfileConfigTests {
    /// A conf directory with `tls/a.pem` and `tls/a.key`: decoding only checks that they exist.
    private func confWithCertificate() throws -> ConfDirectory {
        let conf = try ConfDirectory()
        try conf.write("tls/a.pem", "cert")
        try conf.write("tls/a.key", "key")
        return conf
    }

    @Test func profileDefaultsToIntermediateAndIsReadFromTheListAndTheShorthand() throws {
        let conf = try confWithCertificate()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: default
                address: 127.0.0.1:8443
                tls: {certificate: tls/a.pem, private_key: tls/a.key}
              - name: shorthand
                address: 127.0.0.1:8444
                tls: {certificate: tls/a.pem, private_key: tls/a.key, profile: modern}
              - name: list
                address: 127.0.0.1:8445
                tls:
                  profile: modern
                  certificates:
                    - {certificate: tls/a.pem, private_key: tls/a.key}
              - name: explicit
                address: 127.0.0.1:8446
                tls:
                  certificates: [{certificate: tls/a.pem, private_key: tls/a.key}]
                  profile: intermediate
            """
        )

        let listeners = try conf.load("main.yaml").listeners

        #expect(listeners.map { $0.tls?.profile } == [.intermediate, .modern, .modern, .intermediate])
    }

    @Test func anUnknownProfileIsReportedWithFileLineAndKey() throws {
        let conf = try confWithCertificate()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:8443
                tls:
                  certificates: [{certificate: tls/a.pem, private_key: tls/a.key}]
                  profile: old
              - name: shorthand
                address: 127.0.0.1:8444
                tls: {certificate: tls/a.pem, private_key: tls/a.key, profile: [modern]}
              - name: misspelt
                address: 127.0.0.1:8445
                tls: {certificate: tls/a.pem, private_key: tls/a.key, profle: modern}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):7: listeners[0].tls.profile: expected intermediate or modern, got \"old\"",
                "\(file):10: listeners[1].tls.profile: expected a string, got a list",
                "\(file):13: listeners[2].tls.profle: unknown key (did you mean \"profile\"?)",
            ]
        )
    }
}
