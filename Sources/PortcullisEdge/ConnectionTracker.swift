import NIOConcurrencyHelpers
import NIOCore

/// Knows every accepted client connection of every listener, so a drain can ask each one
/// to finish (`ChannelShouldQuiesceEvent`) and wait until all have closed.
///
/// NIOExtras' `ServerQuiescingHelper` serves one server channel only; the edge has several.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var draining = false
    }
    private let state = NIOLockedValueBox(State())

    /// The handler for a server channel's pipeline: registers each accepted child.
    func makeServerHandler() -> some ChannelInboundHandler & Sendable {
        CollectChildren(tracker: self)
    }

    fileprivate func accepted(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        let draining = state.withLockedValue { state -> Bool in
            state.channels[id] = channel
            return state.draining
        }
        channel.closeFuture.whenComplete { _ in
            self.state.withLockedValue { _ = $0.channels.removeValue(forKey: id) }
        }
        if draining {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Asks every open connection to finish its current exchange and close; completes
    /// when all of them have closed.
    func drain(on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let channels = state.withLockedValue { state in
            state.draining = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        return EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: eventLoop)
    }

    /// Closes whatever is still open (after the drain timeout).
    func closeAll() -> [EventLoopFuture<Void>] {
        let channels = state.withLockedValue { Array($0.channels.values) }
        return channels.map { $0.close() }
    }
}

private final class CollectChildren: ChannelInboundHandler, Sendable {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let tracker: ConnectionTracker

    init(tracker: ConnectionTracker) {
        self.tracker = tracker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tracker.accepted(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}
