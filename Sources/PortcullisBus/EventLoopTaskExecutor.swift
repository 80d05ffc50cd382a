import NIOCore

/// Runs a task's jobs on one NIO event loop (SE-0417 task executor preference).
///
/// A loop that awaits Redis replies (a rooms consumer, the edge's stream reader) gets
/// them completed on the client's event loop. On the default global executor every
/// `await` then resumes on another thread: a futex wake and a context switch per reply,
/// which measured at 42% of the rooms worker's CPU on the echo path. With this preference
/// a reply resumes the task on the loop that received it. What runs there must not
/// block: it shares the loop with the Redis connection.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // Unchecked: the loop reference is immutable; EventLoop is Sendable in practice.
    private let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        self.loop.execute {
            job.runSynchronously(on: executor)
        }
    }
}
