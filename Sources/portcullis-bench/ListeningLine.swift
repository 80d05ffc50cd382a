/// Printed once the floor server is bound.
struct ListeningLine: Encodable {
    var type: String
    var host: String
    var port: Int
    var fdLimit: Int
}
