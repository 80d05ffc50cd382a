import Foundation
import PortcullisTestSupport

/// For non-destructive tests: `PORTCULLIS_TEST_REDIS_URL` when set, else the suite's server.
func sharedServerURL() throws -> String {
    if let url = ProcessInfo.processInfo.environment["PORTCULLIS_TEST_REDIS_URL"], !url.isEmpty {
        return url
    }
    return try currentServer().url
}

/// A key no other test uses.
func uniqueKey(_ name: String = #function) -> String {
    let base = name.prefix { $0 != "(" }
    return "test:\(base):\(UUID().uuidString.prefix(8))"
}
