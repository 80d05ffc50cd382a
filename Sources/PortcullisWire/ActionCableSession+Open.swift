extension ActionCableSession {
    /// The `data` of a subscription's `open`, what Rails gives a channel in `subscribed`:
    /// `{"query":{…},"channel":"ChatChannel","params":{"channel":"ChatChannel","room":"1"}}`.
    /// `params` is the identifier's text as the client sent it (Rails' `params` is the
    /// decoded identifier, `channel` included), so number precision and key order reach the
    /// handler intact; `query` is the upgrade request's parameters (``queryObject(_:)``).
    static func openData(_ identifier: ActionCableIdentifier, query: String) -> String {
        var data = #"{"query":"# + query + #","channel":"#
        JSONString.encode(identifier.channel, into: &data)
        data += #","params":"# + identifier.paramsJSON + "}"
        return data
    }

    /// The query parameters as one JSON object of strings, in order of first appearance; a
    /// name given twice keeps its last value, as Rack's `params` (what a Rails connection
    /// reads) does.
    static func queryObject(_ parameters: [(name: String, value: String)]) -> String {
        var names: [String] = []
        var values: [String: String] = [:]
        for parameter in parameters {
            if values.updateValue(parameter.value, forKey: parameter.name) == nil { names.append(parameter.name) }
        }
        var object = "{"
        for name in names {
            if object.utf8.count > 1 { object += "," }
            JSONString.encode(name, into: &object)
            object += ":"
            JSONString.encode(values[name]!, into: &object)
        }
        return object + "}"
    }
}
