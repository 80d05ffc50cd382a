import NIOCore

/// Holds back a channel's reads while its handler cannot take more input, and replays
/// the one read NIO asked for once it can. Owned by a duplex handler that forwards its
/// `read(context:)` here.
struct ReadGate {
    private(set) var isPaused = false
    private var readPending = false

    mutating func read(context: ChannelHandlerContext) {
        if isPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    mutating func pause() {
        isPaused = true
    }

    mutating func resume(context: ChannelHandlerContext?) {
        guard isPaused else { return }
        isPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}
