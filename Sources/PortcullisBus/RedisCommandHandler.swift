import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A command on its way to the channel: the arguments and the promise its reply completes.
struct RedisRequest {
    var command: [RedisArgument]
    var promise: EventLoopPromise<RESPValue>
}

/// Matches replies to commands for one connection (pipelining: any number in flight).
///
/// Outbound, it records each request's promise and passes the arguments on to the encoder;
/// inbound, it completes the oldest promise with each reply. Flushes are coalesced: many
/// commands written in one event-loop tick leave in one `writev`. All decisions are made by
/// ``RedisCommandStateMachine``; this handler only runs its actions.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = [RedisArgument]

    private var stateMachine = RedisCommandStateMachine<EventLoopPromise<RESPValue>>()
    private var flushScheduled = false
    private let logger: Logger
    private let closeReason: RedisCloseReason?

    init(logger: Logger, closeReason: RedisCloseReason? = nil) {
        self.logger = logger
        self.closeReason = closeReason
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        let action = self.stateMachine.sendCommand(request.command, promise: request.promise)
        self.run(action, context: context, writePromise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.run(self.stateMachine.replyReceived(self.unwrapInboundIn(data)), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.run(self.stateMachine.errorCaught(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(self.stateMachine.connectionClosed(), context: context)
        self.closeReason?.record(self.stateMachine.closeReason)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.run(self.stateMachine.connectionClosed(), context: context)
    }

    /// Runs a state-machine action; `writePromise` is the channel write's own promise and is
    /// only passed for the action answering `write`.
    private func run(
        _ action: RedisCommandStateMachine<EventLoopPromise<RESPValue>>.Action,
        context: ChannelHandlerContext,
        writePromise: EventLoopPromise<Void>? = nil
    ) {
        switch action {
        case .none:
            break
        case .write(let command):
            context.write(self.wrapOutboundOut(command), promise: writePromise)
        case .succeed(let promise, let value):
            promise.succeed(value)
        case .fail(let promise, let error):
            writePromise?.fail(error)
            promise.fail(error)
        case .failAll(let promises, let error):
            for promise in promises {
                promise.fail(error)
            }
        case .close(let error):
            self.logger.debug(
                "Closing Redis connection after an error",
                metadata: ["redis.error": "\(error)", "redis.in_flight": "\(self.stateMachine.inFlightCount)"]
            )
            context.close(promise: nil)
        }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the RESP codec (``RESPParser``, ``RESPCommandFormatter``) and the command handler, which
    /// records in `closeReason` why the channel closed.
    func configureRedisPipeline(logger: Logger, closeReason: RedisCloseReason? = nil) throws {
        try self.addHandlers([
            ByteToMessageHandler(RESPDecoder()),
            MessageToByteHandler(RESPEncoder()),
            RedisCommandHandler(logger: logger, closeReason: closeReason),
        ])
    }
}

/// Why a connection's channel closed, kept beyond the pipeline's life: a command sent after
/// the close fails with it. A TLS handshake can fail before the first command is written
/// (the peer's certificate refused while the connect's callbacks were still queued), and
/// that command must say so, not just "connection closed".
final class RedisCloseReason: Sendable {
    private let reason = NIOLockedValueBox<RedisError?>(nil)

    func record(_ error: RedisError?) {
        self.reason.withLockedValue { $0 = $0 ?? error }
    }

    var error: RedisError? { self.reason.withLockedValue { $0 } }
}
