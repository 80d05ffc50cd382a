import NIOSSL
import PortcullisConfig

/// The TLS contexts of one listener, chosen per connection by the SNI name.
///
/// Contexts are built once per snapshot (parsing PEM files and keys is expensive) and are
/// immutable afterwards. Versions and suites come from the listener's `TLSProfile`; ALPN
/// offers `http/1.1`.
final class TLSContextSet: Sendable {
    private let defaultContext: NIOSSLContext
    private let exact: [String: NIOSSLContext]
    /// `(".example.com", context)`, longest suffix first.
    private let wildcards: [(suffix: String, context: NIOSSLContext)]
    /// Each certificate's leaf `notAfter` (Unix seconds) by its first server name (`-`
    /// when it has none), in configuration order.
    let expiries: [(serverName: String, notAfter: Int)]

    init(settings: TLSSettings) throws {
        var contexts: [NIOSSLContext] = []
        var exact: [String: NIOSSLContext] = [:]
        var wildcards: [(suffix: String, context: NIOSSLContext)] = []
        var expiries: [(serverName: String, notAfter: Int)] = []
        for certificate in settings.certificates {
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificate.certificatePath)
            } catch {
                throw SnapshotError(message: "\(certificate.certificatePath): not a PEM certificate chain (\(error))")
            }
            guard let leaf = chain.first else {
                throw SnapshotError(message: "\(certificate.certificatePath): no certificate in PEM file")
            }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(file: certificate.privateKeyPath, format: .pem)
            } catch {
                throw SnapshotError(message: "\(certificate.privateKeyPath): not a PEM private key (\(error))")
            }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
            configuration.apply(settings.profile)
            configuration.applicationProtocols = ["http/1.1"]
            let context = try NIOSSLContext(configuration: configuration)
            try context.preferServerCipherOrder()
            contexts.append(context)
            let names = certificate.serverNames.isEmpty ? Self.dnsNames(of: leaf) : certificate.serverNames
            expiries.append((serverName: names.first?.lowercased() ?? "-", notAfter: Int(leaf.notValidAfter)))
            for name in names.map({ $0.lowercased() }) {
                if name.hasPrefix("*.") {
                    wildcards.append((suffix: String(name.dropFirst()), context: context))
                } else if exact[name] == nil {
                    exact[name] = context
                }
            }
        }
        guard let first = contexts.first else {
            throw SnapshotError(message: "a TLS listener needs at least one certificate")
        }
        self.defaultContext = first
        self.expiries = expiries
        self.exact = exact
        self.wildcards = wildcards.sorted { $0.suffix.count > $1.suffix.count }
    }

    /// The context for an SNI name; the first certificate when no name matches or none was sent.
    func context(serverName: String?) -> NIOSSLContext {
        guard let name = serverName?.lowercased() else { return defaultContext }
        if let context = exact[name] { return context }
        for wildcard in wildcards where name.hasSuffix(wildcard.suffix) {
            // `*.example.com` covers one label only.
            let label = name.dropLast(wildcard.suffix.count)
            if !label.isEmpty && !label.contains(".") { return wildcard.context }
        }
        return defaultContext
    }

    private static func dnsNames(of certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().compactMap { name in
            guard name.nameType == .dnsName else { return nil }
            return name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// A configuration that validated but cannot be served: an unusable certificate or key, or a
/// feature this build cannot enforce.
struct SnapshotError: Error, CustomStringConvertible {
    let message: String
    /// The message starts with the conf file and line it is about (`conf.yaml:7: …`), so
    /// callers print it as it is instead of prefixing the conf path again.
    var isLocated = false
    var description: String { message }
}
