/// A command on stdin that was not understood.
struct ErrorLine: Encodable {
    var type: String
    var message: String
}
