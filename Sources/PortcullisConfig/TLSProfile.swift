/// Which protocol versions and cipher suites a TLS listener offers, after Mozilla's
/// server-side TLS recommendations (https://wiki.mozilla.org/Security/Server_Side_TLS).
///
/// A profile instead of free-form cipher strings: operators pick a vetted policy by name,
/// and the edge can tighten a profile's suites in a release without every conf file
/// carrying its own, ageing copy of them.
public enum TLSProfile: String, Sendable, CaseIterable {
    /// TLS 1.2 with ECDHE and AEAD suites only (no CBC, no static RSA), and TLS 1.3: every
    /// client of the last decade, none of the suites scanners flag (LUCKY13, SWEET32).
    case intermediate
    /// TLS 1.3 only, for listeners whose clients are all current (service meshes, apps).
    case modern
}
