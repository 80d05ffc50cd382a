import Foundation

extension MarketplaceChatApp {
    /// A chat message as stored in a room's history and sent as `new_message`.
    struct Message: Codable, Sendable, Hashable {
        /// 24 lowercase hex digits, MongoDB ObjectId-like (see ``makeID(seconds:)``).
        var id: String
        var roomID: String
        var from: String
        var to: String
        var type: String
        /// As the client sent it: text, an image URL, an emoji, or any JSON value.
        var content: JSON
        /// The client's own id for the message, echoed as it came (a string or a number).
        var clientMessageID: JSON?
        /// ISO 8601 UTC with milliseconds (`2024-05-01T09:30:00.123Z`).
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id = "_id"
            case roomID = "room_id"
            case from
            case to
            case type
            case content
            case clientMessageID = "client_message_id"
            case createdAt = "created_at"
        }

        /// The message types the product documents.
        static let types: Set<String> = ["TEXT", "IMAGE", "EMOJI"]

        /// A fresh id: the creation time's Unix seconds as 4 big-endian bytes, then 8 random
        /// bytes, in lowercase hex. It sorts by creation second like an ObjectId, and
        /// backends that keep ObjectIds can store it as one.
        static func makeID(seconds: Int64) -> String {
            var generator = SystemRandomNumberGenerator()
            let time = UInt32(truncatingIfNeeded: seconds)
            let random = generator.next() as UInt64
            return Self.hex(UInt64(time), digits: 8) + Self.hex(random, digits: 16)
        }

        private static func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: digits - text.count) + text
        }
    }

    /// `milliseconds` since the Unix epoch as ISO 8601 UTC with milliseconds
    /// (`2024-05-01T09:30:00.123Z`), what JavaScript's `Date.toISOString()` writes.
    static func timestamp(milliseconds: Int64) -> String {
        let seconds = milliseconds.quotient(dividingBy: 1000)
        let fraction = milliseconds - seconds * 1000
        let parts = Self.utc.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(Int(fraction), 3))Z"
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

extension Int64 {
    /// Division rounding toward negative infinity (times before 1970 stay well formed).
    fileprivate func quotient(dividingBy divisor: Int64) -> Int64 {
        let (quotient, remainder) = self.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
