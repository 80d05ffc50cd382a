/// The first line every subcommand prints.
struct StartLine: Encodable {
    var type: String
    var command: String
    var url: String
    var fdLimit: Int
}
