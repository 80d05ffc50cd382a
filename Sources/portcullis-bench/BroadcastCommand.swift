import ArgumentParser
import NIOCore

/// `portcullis-bench broadcast`: N subscribers in one room; broadcasts published with
/// their send time; receive − send histogrammed over every delivery, plus the time to the
/// last subscriber of each broadcast. Against the edge (publish = XADD to
/// `<prefix>:out:bcast`) or, with `--floor`, against `floor-server` (publish = `fire`).
///
/// Subscribers speak `--protocol` and join the room as an app would have them: raw and
/// Socket.IO clients send the echo app's `join` event (`{"event":"join","data":{"room":R}}`,
/// `42["join",{"room":R}]`); ActionCable clients subscribe to `--cable-identifier`, whose
/// channel follows the stream `--room` names (cable-chat: `{"channel":"ChatChannel",
/// "room":"bench"}` follows `chat:bench`). The published envelope is the same for all three
/// (an `emit` to the room without `ns`, data `{"t":…}`); only `--app` and `--room` differ.
///
/// Without `--control` it measures each count of `--connections` in turn and exits. With
/// `--control` it prints `ready` once it can publish, then reads `target N` (ramp to N
/// subscribers) and `measure K` from stdin, so a driver can interleave it with another
/// generator; end of input or a signal ends it.
struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Broadcast latency to N subscribers: p50/p99/max and time to the last subscriber."
    )

    @OptionGroup var client: ClientOptions

    @OptionGroup var wire: ProtocolOptions

    @Option(help: "Subscriber counts to measure, ascending (e.g. 1000,10000,19000).")
    var connections: CountList = CountList(argument: "1000")!

    @Option(help: "Measured broadcasts per count.")
    var broadcasts: Int = 20

    @Option(help: "Unmeasured broadcasts before the measured ones.")
    var warmupBroadcasts: Int = 2

    @Option(help: "Milliseconds between one broadcast's last delivery and the next broadcast.")
    var gapMs: Int = 100

    @Option(help: "Seconds to wait for a broadcast to reach every subscriber.")
    var deliveryTimeout: Int = 10

    @Option(help: "Seconds to wait for the room joins to take effect (a probe reaching everyone).")
    var probeTimeout: Int = 120

    @Flag(help: "Measure floor-server: publish by sending `fire` to --url instead of XADD.")
    var floor = false

    @Option(help: "Redis URL to publish to (not with --floor).")
    var redisUrl: String = "redis://127.0.0.1:6379"

    @Option(help: "Bus prefix (publishes to <prefix>:out:bcast).")
    var prefix: String = "portcullis"

    @Option(help: "App named in the emit envelope.")
    var app: String = "echo"

    @Option(help: "Room the broadcasts target; raw and Socket.IO subscribers join it (ActionCable: the stream).")
    var room: String = "bench"

    @Option(help: "Name of this series in result lines (default: edge, edge-<protocol>, or floor with --floor).")
    var label: String?

    @Flag(help: "Read `target N` / `measure K` commands from stdin instead of measuring --connections.")
    var control = false

    func validate() throws {
        guard self.broadcasts > 0, self.warmupBroadcasts >= 0, self.gapMs >= 0 else {
            throw ValidationError("--broadcasts must be positive, --warmup-broadcasts and --gap-ms not negative")
        }
        guard self.deliveryTimeout > 0, self.probeTimeout > 0 else {
            throw ValidationError("timeouts must be positive")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
        guard !self.room.isEmpty, self.room.count <= 64, self.room.allSatisfy(allowed.contains) else {
            throw ValidationError("--room takes 1…64 characters from A-Z a-z 0-9 _ - . :")
        }
        try self.wire.check(url: self.client.url)
        if self.wire.name != .raw, self.floor {
            throw ValidationError("--floor speaks raw only")
        }
        if self.wire.name == .actioncable, self.wire.cableIdentifier == nil {
            throw ValidationError(
                "--protocol actioncable needs --cable-identifier: the subscription that follows --room")
        }
    }

    func run() async throws {
        let fdLimit = FileDescriptorLimit.raiseToHardLimit()
        JSONLines.emit(StartLine(type: "started", command: "broadcast", url: "\(self.client.url)", fdLimit: fdLimit))
        let wireProtocol = self.wire.clientProtocol
        let join = Subscribers.joinMessage(room: self.room, wireProtocol: wireProtocol)
        let load = try await ClientLoad.start(options: self.client, wireProtocol: wireProtocol) { eventLoop in
            Subscribers(eventLoop: eventLoop, join: join)
        }
        let publisher: any TickPublisher
        do {
            if self.floor {
                publisher = try await FloorTickPublisher(url: self.client.url, eventLoop: load.eventLoop)
            } else {
                publisher = try await RedisTickPublisher(
                    url: self.redisUrl, prefix: self.prefix, app: self.app, room: self.room, eventLoop: load.eventLoop)
            }
        } catch {
            await load.shutdown()
            throw error
        }
        let series = BroadcastSeries(
            load: load,
            publisher: publisher,
            label: self.label ?? self.defaultLabel,
            wireProtocol: self.wire.name.rawValue,
            gap: .milliseconds(Int64(self.gapMs)),
            deliveryTimeout: .seconds(Int64(self.deliveryTimeout)),
            probeTimeout: Double(self.probeTimeout)
        )
        do {
            if self.control {
                try await self.runCommands(series: series, load: load)
            } else {
                for count in self.connections.counts {
                    let ramp = try await load.resize(to: count)
                    JSONLines.emit(ramp)
                    guard ramp.type == "ready" else { break }
                    JSONLines.emit(
                        try await series.measure(
                            requested: count, broadcasts: self.broadcasts, warmup: self.warmupBroadcasts))
                }
            }
        } catch {
            await publisher.close()
            await load.shutdown()
            throw error
        }
        await publisher.close()
        let final = try await load.report(type: "done")
        await load.shutdown()
        JSONLines.emit(final)
    }

    /// `floor`, `edge` (raw) or `edge-<protocol>`.
    private var defaultLabel: String {
        if self.floor { return "floor" }
        return self.wire.name == .raw ? "edge" : "edge-" + self.wire.name.rawValue
    }

    private func runCommands(series: BroadcastSeries, load: ClientLoad<Subscribers>) async throws {
        JSONLines.emit(try await load.report(type: "ready"))
        let warmup = self.warmupBroadcasts
        try await load.serveCommands(ControlInput.commands(readStdin: true)) { verb, number, target in
            guard verb == "measure", let broadcasts = number, broadcasts > 0 else { return false }
            JSONLines.emit(try await series.measure(requested: target, broadcasts: broadcasts, warmup: warmup))
            return true
        }
    }
}
