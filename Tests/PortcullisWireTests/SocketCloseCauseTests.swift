import Testing

@testable import PortcullisWire

/// The typed close causes keep the labels, reasons and codes the bus contract and the
/// metrics already promise.
@Suite struct SocketCloseCauseTests {
    @Test func eachCauseKeepsItsContractLabelReasonAndCloseFrame() {
        let cases: [(SocketCloseCause, String, String, UInt16?, SocketCloseCause.Ending)] = [
            (.connectionLost, "client", "client closed", nil, .none),
            (.clientClosed(code: .normalClosure), "client", "client closed (1000)", nil, .none),
            (
                .protocolError(code: .messageTooBig, message: "frame too large"), "protocol_error",
                "protocol error: frame too large", 1009, .fail
            ),
            (.rateLimited, "rate_limit", "rate limit exceeded", 1008, .handshake),
            (.busUnavailable, "unavailable", "message bus unavailable", 1013, .handshake),
            (.slowConsumer, "slow_consumer", "slow consumer", 1008, .handshake),
            (.disconnected(reason: "kicked"), "disconnect", "disconnected: kicked", 4000, .handshake),
            (.shutdown, "shutdown", "server shutting down", 1001, .handshake),
            (.expired, "expired", "credentials expired", 4001, .handshake),
            (
                .pingTimeout(WebSocketClose(code: .goingAway, reason: "ping timeout")), "ping_timeout", "ping timeout",
                1001, .fail
            ),
        ]
        for (cause, label, reason, code, ending) in cases {
            #expect(cause.label == label)
            #expect(cause.description == reason)
            #expect(cause.code?.rawValue == code)
            #expect(cause.ending == ending)
        }
        #expect(SocketCloseCause.disconnected(reason: "kicked").wireReason == "kicked")
    }
}
