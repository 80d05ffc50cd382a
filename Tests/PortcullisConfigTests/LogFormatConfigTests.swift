import PortcullisConfig
import Testing

/// `edge.log_format` picks how every log line is written; it defaults to swift-log's text.
@Suite struct LogFormatConfigTests {
    private static func conf(edge: String) -> String {
        """
        version: 1
        \(edge)
        listeners:
          - name: public
            address: 127.0.0.1:8080
        """
    }

    @Test func logFormatDefaultsToText() throws {
        let conf = try ConfDirectory()
        _ = try conf.write("main.yaml", Self.conf(edge: "edge: {id: edge-1}"))
        #expect(try conf.load("main.yaml").edge.logFormat == .text)
    }

    @Test(arguments: [("text", LogFormat.text), ("logfmt", .logfmt), ("json", .json)])
    func eachLogFormatIsRead(text: String, expected: LogFormat) throws {
        let conf = try ConfDirectory()
        _ = try conf.write("main.yaml", Self.conf(edge: "edge: {log_format: \(text)}"))
        #expect(try conf.load("main.yaml").edge.logFormat == expected)
    }

    @Test func anUnknownLogFormatNamesTheAllowedOnes() throws {
        let conf = try ConfDirectory()
        let file = try conf.write("main.yaml", Self.conf(edge: "edge: {log_format: yaml}"))
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):2: edge.log_format: expected one of text, logfmt, json, got \"yaml\""
            ])
    }
}
