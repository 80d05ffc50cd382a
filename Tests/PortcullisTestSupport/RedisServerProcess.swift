import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import Testing

import PortcullisBus

/// Shared by every test target that needs Redis. A real `redis-server` (Debian's) for one test suite: a free loopback port, its own temp
/// directory, no persistence, killed when the suite ends. ``restart()`` brings it back on the
/// same port (for reconnect tests).
public final class RedisServerProcess: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    public let password: String?
    /// Set when the server speaks only TLS (its `port` is the `--tls-port`).
    public let tls: RedisTLSFiles?
    private let extraArguments: [String]
    private let lock = NSLock()
    private var process: Process?

    /// The suite's server, set by the ``RedisServerTrait`` scope.
    @TaskLocal public static var current: RedisServerProcess?

    public var url: String {
        let scheme = self.tls == nil ? "redis" : "rediss"
        if let password {
            return "\(scheme)://:\(password)@127.0.0.1:\(self.port)"
        }
        return "\(scheme)://127.0.0.1:\(self.port)"
    }

    public var socketPath: String { self.directory.appendingPathComponent("redis.sock").path }

    /// The URL's configuration; over TLS it trusts the test CA and presents the client
    /// certificate.
    public var configuration: RedisConfiguration {
        get throws {
            var configuration = try RedisConfiguration(url: self.url)
            configuration.tls = self.tls?.clientConfiguration()
            return configuration
        }
    }

    private init(port: Int, directory: URL, password: String?, tls: RedisTLSFiles?, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.password = password
        self.tls = tls
        self.extraArguments = extraArguments
    }

    /// Starts a server and waits until it answers PING.
    ///
    /// - Parameters:
    ///   - tls: Serve TLS only, with certificates made by ``RedisTLSFiles/generate(in:)``;
    ///     `authClients` is redis' `tls-auth-clients` (`yes`, `optional`, `no`).
    public static func start(
        password: String? = nil,
        arguments: [String] = [],
        tls authClients: String? = nil
    ) async throws -> RedisServerProcess {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portcullis-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tls: RedisTLSFiles?
        var arguments = arguments
        if let authClients {
            let files = try RedisTLSFiles.generate(in: directory)
            tls = files
            arguments += [
                "--tls-cert-file", files.serverCertificate, "--tls-key-file", files.serverKey,
                "--tls-ca-cert-file", files.ca, "--tls-auth-clients", authClients,
            ]
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = RedisServerProcess(
                port: try await Self.freePort(),
                directory: directory,
                password: password,
                tls: tls,
                extraArguments: arguments
            )
            do {
                try await server.launch()
                return server
            } catch {
                server.kill()
                lastError = error
            }
        }
        throw lastError ?? RedisError(code: .connectFailed, message: "redis-server did not start")
    }

    /// Starts the server again on the same port (after ``kill()``).
    public func restart() async throws {
        try await self.launch()
    }

    /// SIGKILLs the server (no shutdown handshake, like a crash) and waits for it to exit.
    public func kill() {
        let process = self.lock.withLock {
            defer { self.process = nil }
            return self.process
        }
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Kills the server and removes its directory.
    public func stop() {
        self.kill()
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        let ports = self.tls == nil ? ["--port", "\(self.port)"] : ["--port", "0", "--tls-port", "\(self.port)"]
        var arguments =
            ports + [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.directory.path, "--daemonize", "no", "--unixsocket", self.socketPath,
                "--unixsocketperm", "700", "--loglevel", "warning",
            ]
        if let password {
            arguments += ["--requirepass", password]
        }
        process.arguments = arguments + self.extraArguments
        let log = self.directory.appendingPathComponent("redis.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.lock.withLock { self.process = process }

        // Ready once a raw PING is answered (a -NOAUTH error counts: the server is up).
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if await Self.answersPing(port: self.port, tls: self.tls) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RedisError(code: .connectFailed, message: "redis-server on port \(self.port) did not become ready")
    }

    /// Whether the server answers at all: a PONG, or an error reply such as -NOAUTH or
    /// -LOADING (a server still loading its data set is up, just not ready).
    private static func answersPing(port: Int, tls: RedisTLSFiles?) async -> Bool {
        let configuration = RedisConfiguration(
            endpoint: .tcp(host: "127.0.0.1", port: port),
            tls: tls?.clientConfiguration()
        )
        do {
            let connection = try await RedisConnection.connect(to: configuration, logger: testLogger)
            defer { connection.close() }
            _ = try await connection.send(["PING"])
            return true
        } catch let error as RedisError {
            return error.code == .server || error.serverCode != nil
        } catch {
            return false
        }
    }

    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}

/// Runs a suite against its own `redis-server` (see ``RedisServerProcess``), available to its
/// tests as `RedisServerProcess.current`.
public struct RedisServerTrait: SuiteTrait, TestScoping {
    public var password: String?
    public var arguments: [String] = []
    /// `tls-auth-clients` for a TLS-only server; nil: plain TCP.
    public var tls: String?

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await RedisServerProcess.start(
            password: self.password,
            arguments: self.arguments,
            tls: self.tls
        )
        defer { server.stop() }
        try await RedisServerProcess.$current.withValue(server) {
            try await function()
        }
    }
}

extension Trait where Self == RedisServerTrait {
    /// The suite gets its own `redis-server`.
    public static func redisServer(password: String? = nil, arguments: [String] = [], tls: String? = nil) -> Self {
        RedisServerTrait(password: password, arguments: arguments, tls: tls)
    }
}

/// The server of the current suite.
public func currentServer() throws -> RedisServerProcess {
    try #require(RedisServerProcess.current, "the suite needs the .redisServer() trait")
}

public let testLogger: Logger = {
    var logger = Logger(label: "portcullis.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["PORTCULLIS_TEST_LOG"] == nil ? .critical : .trace
    return logger
}()
