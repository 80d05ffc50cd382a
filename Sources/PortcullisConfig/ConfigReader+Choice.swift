extension ConfigReader {
    /// One of an enum's raw values, with the allowed values in the error.
    func choice<Value: RawRepresentable & CaseIterable>(_ type: Value.Type) -> Value?
    where Value.RawValue == String {
        let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = scalar(expected: "one of \(allowed)") else { return nil }
        guard let value = Value(rawValue: text) else {
            fail("expected one of \(allowed), got \(quoted(text))")
            return nil
        }
        return value
    }

    /// An IPv4 or IPv6 network (`10.0.0.0/8`, `2001:db8::/32`) or single address.
    func cidr() -> CIDRBlock? {
        guard let text = scalar(expected: "an address or network like 10.0.0.0/8") else { return nil }
        guard let block = CIDRBlock(text) else {
            fail("expected an IP address or CIDR network like 10.0.0.0/8 or 2001:db8::/32, got \(quoted(text))")
            return nil
        }
        return block
    }
}
