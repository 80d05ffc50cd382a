import ArgumentParser
import NIOCore

/// `portcullis-bench echo`: message round trips through the edge, the bus and the echo
/// app (or the floor server's echo), at a fixed rate or closed loop.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Echo round trip at a fixed rate (p50/p99/max), or closed loop for the sustained maximum."
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Connections to send on.")
    var connections: Int = 100

    @Option(help: "Messages per second, all connections together (fixed-rate mode).")
    var rate: Double = 1000

    @Option(help: "Seconds measured.")
    var duration: Double = 10

    @Option(help: "Seconds of unmeasured load before the window.")
    var warmup: Double = 2

    @Flag(help: "Closed loop: each connection keeps --inflight messages outstanding (ignores --rate).")
    var closedLoop = false

    @Option(help: "Outstanding messages per connection in closed-loop mode.")
    var inflight: Int = 1

    @Option(help: "Event name of the messages.")
    var event: String = "echo"

    @Option(help: "Bytes of JSON text padding each message (word-like, so it compresses as prose would).")
    var padding: Int = 0

    @Option(help: "Seconds to wait for the window's last answers.")
    var drainTimeout: Double = 5

    @Option(help: "Name of this series in the result line.")
    var label: String = "edge"

    func validate() throws {
        guard (0...(512 * 1024)).contains(self.padding) else {
            throw ValidationError("--padding must be 0…524288 bytes")
        }
        guard self.connections > 0, self.rate > 0, self.inflight > 0 else {
            throw ValidationError("--connections, --rate and --inflight must be positive")
        }
        guard self.duration > 0, self.duration <= 3600, self.warmup >= 0, self.warmup <= 600,
            self.drainTimeout > 0, self.drainTimeout <= 60
        else {
            throw ValidationError("--duration 0…3600 s, --warmup 0…600 s, --drain-timeout 0…60 s")
        }
    }

    func run() async throws {
        let fdLimit = FileDescriptorLimit.raiseToHardLimit()
        JSONLines.emit(StartLine(type: "started", command: "echo", url: "\(self.client.url)", fdLimit: fdLimit))
        let (event, padding) = (self.event, TickMessage.padding(bytes: self.padding))
        let load = try await ClientLoad.start(options: self.client) { eventLoop in
            EchoLoad(eventLoop: eventLoop, event: event, padding: padding)
        }
        do {
            let ramp = try await load.resize(to: self.connections)
            JSONLines.emit(ramp)
            if ramp.type == "ready" {
                JSONLines.emit(try await self.measure(load: load))
            }
        } catch {
            await load.shutdown()
            throw error
        }
        let final = try await load.report(type: "done")
        await load.shutdown()
        JSONLines.emit(final)
    }

    private func measure(load: ClientLoad<EchoLoad>) async throws -> EchoResult {
        let mode: EchoLoad.Mode =
            self.closedLoop ? .closedLoop(inflight: self.inflight) : .fixedRate(perSecond: self.rate)
        let warmup = TimeAmount.nanoseconds(Int64(self.warmup * 1e9))
        let window = TimeAmount.nanoseconds(Int64(self.duration * 1e9))
        let drain = TimeAmount.nanoseconds(Int64(self.drainTimeout * 1e9))
        let cpuBefore = ProcessCPU.seconds()
        try await load.onLoop { pool, role in role.start(pool: pool, mode: mode, warmup: warmup, window: window) }
        try await Task.sleep(nanoseconds: UInt64(warmup.nanoseconds + window.nanoseconds))
        try await load.onLoopLater { _, role in role.stop(drainTimeout: drain) }
        let cpu = ProcessCPU.seconds() - cpuBefore
        let connections = try await load.openCount
        let (label, closedLoop, rate, inflight, duration) = (
            self.label, self.closedLoop, self.rate, self.inflight, self.duration
        )
        return try await load.onLoop { _, role in
            EchoResult(
                label: label,
                mode: closedLoop ? "closed" : "fixed",
                connections: connections,
                rateTarget: closedLoop ? nil : rate,
                inflight: closedLoop ? inflight : nil,
                durationS: duration,
                sent: role.sentInWindow,
                answered: role.answeredInWindow,
                lost: role.sentInWindow - role.answeredInWindow,
                sentPerS: (Double(role.sentInWindow) / duration).rounded(),
                completedPerS: (Double(role.completedInWindow) / duration).rounded(),
                latency: role.latency.summary,
                otherFrames: role.otherFrames,
                clientCpuS: (cpu * 1000).rounded() / 1000
            )
        }
    }
}
