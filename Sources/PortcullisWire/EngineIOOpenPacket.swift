/// The handshake data of an Engine.IO 4 session: the JSON of the first packet the server
/// sends (`0{…}`).
///
/// Built by the session machine once per session. The JSON is written by hand, with the
/// keys exactly as the reference server writes them (`JSON.stringify` of an object literal
/// `{sid, upgrades, pingInterval, pingTimeout, maxPayload}`), so our bytes match a JS
/// server's byte for byte and clients that compare against recorded sessions see no
/// difference. Durations go on the wire as whole milliseconds.
public struct EngineIOOpenPacket: Hashable, Sendable {
    /// The session id; clients treat it as opaque. See ``makeSessionID(using:)``.
    public var sid: String
    /// `[]` on a WebSocket session, `["websocket"]` on a polling session that may upgrade.
    public var upgrades: [String]
    /// How often the server pings (JS default 25 s).
    public var pingInterval: Duration
    /// How long the server waits for a pong (JS default 20 s).
    public var pingTimeout: Duration
    /// Largest packet (WebSocket) or body (polling) accepted, in bytes (JS default 1e6).
    public var maxPayload: Int

    public init(
        sid: String,
        upgrades: [String] = [],
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxPayload: Int = 1_000_000
    ) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// `{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`.
    public var json: String {
        var json = "{\"sid\":"
        JSONString.encode(self.sid, into: &json)
        json += ",\"upgrades\":["
        for (index, upgrade) in self.upgrades.enumerated() {
            if index > 0 { json += "," }
            JSONString.encode(upgrade, into: &json)
        }
        json += "],\"pingInterval\":\(Self.milliseconds(self.pingInterval))"
        json += ",\"pingTimeout\":\(Self.milliseconds(self.pingTimeout))"
        json += ",\"maxPayload\":\(self.maxPayload)}"
        return json
    }

    /// The `open` packet carrying ``json``.
    public var packet: EngineIOPacket {
        EngineIOPacket(.open, text: self.json)
    }

    /// A fresh session id spelled as the reference `base64id` spells them: 15 random bytes
    /// in url-safe base64, 20 characters. The generator is injected so tests are
    /// repeatable; the edge passes `SystemRandomNumberGenerator` (a CSPRNG), since a
    /// guessable sid would let a stranger post into a polling session.
    public static func makeSessionID(using generator: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(15)
        for _ in 0..<15 {
            bytes.append(UInt8.random(in: .min ... .max, using: &generator))
        }
        var sid = ""
        Base64.encode(bytes, alphabet: Base64.urlAlphabet, into: &sid)
        return sid
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
