/// Why a connection attempt or a run failed, in words a benchmark log can show.
struct BenchError: Error, CustomStringConvertible {
    private enum Code: String {
        case upgradeRefused, closedDuringHandshake, handshakeTimeout, sessionEnded, rampFailed, publishFailed
    }

    private let code: Code
    let description: String

    /// The server answered the upgrade request with `status` instead of switching protocols.
    static func upgradeRefused(status: Int) -> BenchError {
        BenchError(code: .upgradeRefused, description: "upgrade refused with HTTP \(status)")
    }

    static let closedDuringHandshake = BenchError(
        code: .closedDuringHandshake,
        description: "connection closed during the handshake"
    )

    static let handshakeTimeout = BenchError(code: .handshakeTimeout, description: "handshake timed out")

    /// The protocol above WebSocket refused the session (Socket.IO CONNECT_ERROR, an
    /// ActionCable subscription rejected) or the server ended it.
    static func sessionEnded(_ reason: String) -> BenchError {
        BenchError(code: .sessionEnded, description: reason)
    }

    static func rampFailed(_ message: String) -> BenchError {
        BenchError(code: .rampFailed, description: message)
    }

    static func publishFailed(_ message: String) -> BenchError {
        BenchError(code: .publishFailed, description: message)
    }

    /// A short label for counting failures by kind.
    var kind: String { self.code.rawValue }
}
