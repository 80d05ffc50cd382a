import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix

import PortcullisBus

/// A real Redis Sentinel (`redis-server FILE --sentinel`) monitoring one master as
/// `masterName`, with quick failure detection; stopped with ``stop()``.
public final class RedisSentinelProcess: @unchecked Sendable {
    public let port: Int
    public let masterName: String
    private let directory: URL
    private let process: Process

    private init(port: Int, masterName: String, directory: URL, process: Process) {
        self.port = port
        self.masterName = masterName
        self.directory = directory
        self.process = process
    }

    /// Starts a sentinel for the master at `masterPort` and waits until it names it.
    public static func start(masterPort: Int, masterName: String = "portcullis") async throws -> RedisSentinelProcess {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portcullis-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try await RedisServerProcess.freePort()
        let conf = directory.appendingPathComponent("sentinel.conf")
        try """
        port \(port)
        bind 127.0.0.1
        dir \(directory.path)
        sentinel monitor \(masterName) 127.0.0.1 \(masterPort) 1
        sentinel down-after-milliseconds \(masterName) 1000
        sentinel failover-timeout \(masterName) 5000

        """.write(to: conf, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [conf.path, "--sentinel"]
        let log = directory.appendingPathComponent("sentinel.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let sentinel = RedisSentinelProcess(port: port, masterName: masterName, directory: directory, process: process)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let reply = try? await sentinel.command([
                "SENTINEL", "get-master-addr-by-name", RedisArgument(masterName),
            ]),
                case .array(let items) = reply, items.count == 2
            {
                return sentinel
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        sentinel.stop()
        throw RedisError(code: .connectFailed, message: "sentinel on port \(port) did not become ready")
    }

    /// Runs one command on the sentinel.
    public func command(_ command: [RedisArgument]) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(
            to: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: self.port)), logger: testLogger)
        defer { connection.close() }
        return try await connection.send(command)
    }

    /// Starts a failover (`SENTINEL failover`), asking again while the sentinel does not
    /// know a replica it could promote yet (it asks the master and replicas every few
    /// seconds).
    public func failover(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                _ = try await self.command(["SENTINEL", "failover", RedisArgument(self.masterName)])
                return
            } catch let error as RedisError where error.serverCode == "NOGOODSLAVE" {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    public func stop() {
        if self.process.isRunning {
            Glibc.kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}
