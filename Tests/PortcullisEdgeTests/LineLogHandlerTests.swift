import Foundation
import Logging
import Testing

@testable import PortcullisEdge

/// `edge.log_format: logfmt | json`: one line per record, fixed fields first, metadata
/// sorted by key, values quoted and escaped so a parser gets back what was logged.
@Suite struct LineLogHandlerTests {
    private static let ts = "2026-12-07T02:31:12.345Z"

    private func line(_ format: LineLogHandler.Format, _ message: String, _ metadata: Logger.Metadata) -> String {
        LineLogHandler.line(
            format, timestamp: Self.ts, level: .info, message: message, label: "portcullis", metadata: metadata)
    }

    @Test func logfmtPutsTheFixedFieldsFirstAndSortsTheMetadata() {
        let text = line(.logfmt, "request", ["status": "200", "route": "api", "duration.ms": "1.5"])
        #expect(
            text == "ts=\(Self.ts) level=info msg=request logger=portcullis duration.ms=1.5 route=api status=200")
    }

    @Test func logfmtQuotesValuesWithSpacesEqualsQuotesAndEmptyOnes() {
        let text = line(
            .logfmt, "socket closed",
            ["a": "two words", "b": "k=v", "c": "say \"hi\"", "d": "", "e": "back\\slash", "f": "naïve"])
        #expect(
            text
                == #"ts=2026-12-07T02:31:12.345Z level=info msg="socket closed" logger=portcullis a="two words" b="k=v" c="say \"hi\"" d="" e="back\\slash" f="naïve""#
        )
    }

    @Test func logfmtEscapesControlCharactersSoOneRecordStaysOneLine() {
        let text = line(.logfmt, "multi\nline", ["agent": "curl\r\n\u{01}"])
        #expect(!text.contains("\n") && !text.contains("\r"))
        #expect(text.hasSuffix(#"msg="multi\nline" logger=portcullis agent="curl\r\n\u0001""#))
    }

    @Test func logfmtKeysWithSpacesOrEqualsBecomeUnderscores() {
        #expect(LineLogHandler.logfmtKey("user agent=x") == "user_agent_x")
        #expect(LineLogHandler.logfmtKey("conn.id") == "conn.id")
        #expect(LineLogHandler.logfmtKey("") == "_")
    }

    @Test func jsonIsOneObjectPerLineThatParsesBackToWhatWasLogged() throws {
        let text = line(
            .json, "request",
            [
                "path": "/a \"b\"\\c", "user.agent": "x\ny\t\u{1F}", "status": .stringConvertible(404),
                "tags": .array(["a", "b"]), "nested": .dictionary(["z": "1", "a": "2"]),
            ])
        #expect(!text.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == Self.ts)
        #expect(object["level"] as? String == "info")
        #expect(object["msg"] as? String == "request")
        #expect(object["logger"] as? String == "portcullis")
        #expect(object["path"] as? String == "/a \"b\"\\c")
        #expect(object["user.agent"] as? String == "x\ny\t\u{1F}")
        #expect(object["status"] as? String == "404")
        #expect(object["tags"] as? [String] == ["a", "b"])
        #expect(object["nested"] as? [String: String] == ["a": "2", "z": "1"])
    }

    @Test func jsonKeepsTheFieldOrderOfLogfmt() {
        let text = line(.json, "m", ["b": "2", "a": "1"])
        #expect(
            text == #"{"ts":"2026-12-07T02:31:12.345Z","level":"info","msg":"m","logger":"portcullis","a":"1","b":"2"}"#
        )
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(LineLogHandler.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(LineLogHandler.timestamp(seconds: 1_796_610_672, milliseconds: 345) == "2026-12-07T02:31:12.345Z")
    }

    @Test func handlerMetadataIsKeptPerKeyAndTheLevelDefaultsToInfo() {
        var handler = LineLogHandler(label: "portcullis", format: .logfmt)
        handler[metadataKey: "route"] = "old"
        #expect(handler[metadataKey: "route"] == "old")
        #expect(handler.logLevel == .info)
    }
}
