import Testing

@testable import PortcullisConfig

@Suite struct VariableExpansionTests {
    let environment = ["HOST": "db.internal", "EMPTY": "", "PORT": "5432"]

    private func expand(_ text: String) -> Result<String, VariableExpansion.Failure> {
        VariableExpansion.expand(text, environment: environment)
    }

    @Test func variablesAreReplaced() {
        #expect(expand("${HOST}:${PORT}") == .success("db.internal:5432"))
        #expect(expand("plain") == .success("plain"))
    }

    @Test func defaultsApplyWhenUnsetOrEmpty() {
        #expect(expand("${MISSING:-fallback}") == .success("fallback"))
        #expect(expand("${EMPTY:-fallback}") == .success("fallback"))
        #expect(expand("${HOST:-fallback}") == .success("db.internal"))
        #expect(expand("${MISSING:-}") == .success(""))
        #expect(expand("${EMPTY}") == .success(""))
    }

    @Test func doubledDollarIsALiteralReference() {
        #expect(expand("$${HOST}") == .success("${HOST}"))
        #expect(expand("cost: $5 $$") == .success("cost: $5 $$"))
    }

    @Test func mistakesAreReported() {
        #expect(expand("${MISSING}") == .failure(.undefined("MISSING")))
        #expect(expand("${HOST") == .failure(.unterminated))
        #expect(expand("${1X}") == .failure(.invalidReference("1X")))
        #expect(expand("${HOST-x}") == .failure(.invalidReference("HOST-x")))
    }
}
