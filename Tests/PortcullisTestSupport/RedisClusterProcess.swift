import Foundation
import NIOCore

import PortcullisBus

/// A local Redis Cluster for one test: `masters` ``RedisServerProcess``es with
/// `--cluster-enabled yes` and no replicas, node `i` serving the `i`-th equal share of the
/// 16384 slots, joined with `CLUSTER ADDSLOTSRANGE` and `CLUSTER MEET`. ``moveSlot(_:from:to:keysPerStep:between:)``
/// moves one slot as `redis-cli --cluster reshard` does. Call ``stop()`` when done.
public final class RedisClusterProcess: Sendable {
    public let nodes: [RedisServerProcess]
    /// Each node's cluster bus port (`CLUSTER MEET` needs it).
    private let busPorts: [Int]
    /// Every node's `requirepass`, if any.
    public let password: String?
    /// With TLS: each node's TLS port (its ``RedisServerProcess/port`` stays plain, for the
    /// test's own connections), and the files its certificate comes from.
    public let tlsPorts: [Int]
    public let tls: RedisTLSFiles?

    private init(nodes: [RedisServerProcess], busPorts: [Int], password: String?, tlsPorts: [Int], tls: RedisTLSFiles?)
    {
        self.nodes = nodes
        self.busPorts = busPorts
        self.password = password
        self.tlsPorts = tlsPorts
        self.tls = tls
    }

    /// Starts the nodes and waits until every one reports `cluster_state:ok` and knows every
    /// master. With `tls` (certificates made by ``RedisTLSFiles/generate(in:)``) each node
    /// also serves TLS on a port of its own, the cluster bus runs TLS (`tls-cluster yes`),
    /// and the map a TLS client reads names the TLS ports.
    public static func start(
        masters: Int = 3, password: String? = nil, tls: RedisTLSFiles? = nil
    ) async throws -> RedisClusterProcess {
        var nodes: [RedisServerProcess] = []
        var busPorts: [Int] = []
        var tlsPorts: [Int] = []
        do {
            for _ in 0..<masters {
                // The bus port defaults to port + 10000, which may not exist for a free port.
                let busPort = try await RedisServerProcess.freePort()
                busPorts.append(busPort)
                var arguments = [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
                    "\(busPort)", "--cluster-node-timeout", "2000",
                ]
                if let tls {
                    let tlsPort = try await RedisServerProcess.freePort()
                    tlsPorts.append(tlsPort)
                    arguments += [
                        "--tls-port", "\(tlsPort)", "--tls-cert-file", tls.serverCertificate, "--tls-key-file",
                        tls.serverKey, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "optional",
                        "--tls-cluster", "yes",
                    ]
                }
                nodes.append(try await RedisServerProcess.start(password: password, arguments: arguments))
            }
            let cluster = RedisClusterProcess(
                nodes: nodes, busPorts: busPorts, password: password, tlsPorts: tlsPorts, tls: tls)
            try await cluster.join()
            return cluster
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    /// The nodes' TCP ports, in order.
    public var ports: [Int] { self.nodes.map(\.port) }

    /// A connection of the test's own to node `index` (close it when done).
    public func connection(to index: Int) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: RedisConfiguration(
                endpoint: .tcp(host: "127.0.0.1", port: self.nodes[index].port), password: self.password),
            logger: testLogger)
    }

    /// Runs `command` on node `index`, on a connection of its own.
    @discardableResult
    public func send(_ command: [RedisArgument], to index: Int) async throws -> RESPValue {
        let connection = try await self.connection(to: index)
        defer { connection.close() }
        return try await connection.send(command)
    }

    public func nodeID(_ index: Int) async throws -> String {
        try await self.send(["CLUSTER", "MYID"], to: index).expectString()
    }

    /// The index of the node that serves `slot`, as node 0 sees it.
    public func owner(ofSlot slot: Int) async throws -> Int? {
        for range in try await self.send(["CLUSTER", "SLOTS"], to: 0).expectArray() {
            let items = try range.expectArray()
            guard let start = items[0].integer, let end = items[1].integer, (start...end).contains(slot) else {
                continue
            }
            let port = try items[2].expectArray()[1].integer
            return self.nodes.firstIndex { $0.port == port }
        }
        return nil
    }

    /// Moves `slot` from node `source` to node `target`: IMPORTING on the target, MIGRATING
    /// on the source, `MIGRATE` of `keysPerStep` keys at a time (running `between` after each
    /// step, so a test can send commands that meet -ASK), then NODE on every node.
    /// Returns the number of keys moved.
    @discardableResult
    public func moveSlot(
        _ slot: Int, from source: Int, to target: Int, keysPerStep: Int = 10,
        between: () async throws -> Void = {}
    ) async throws -> Int {
        let sourceID = try await self.nodeID(source)
        let targetID = try await self.nodeID(target)
        try await self.send(
            ["CLUSTER", "SETSLOT", RedisArgument(slot), "IMPORTING", RedisArgument(sourceID)], to: target)
        try await self.send(
            ["CLUSTER", "SETSLOT", RedisArgument(slot), "MIGRATING", RedisArgument(targetID)], to: source)
        var moved = 0
        while true {
            let keys = try await self.send(
                ["CLUSTER", "GETKEYSINSLOT", RedisArgument(slot), RedisArgument(keysPerStep)], to: source
            ).expectArray()
            if keys.isEmpty { break }
            try await self.send(
                ["MIGRATE", "127.0.0.1", RedisArgument(self.nodes[target].port), "", "0", "5000", "KEYS"]
                    + keys.compactMap { $0.bytes.map(RedisArgument.init) },
                to: source)
            moved += keys.count
            try await between()
        }
        for index in self.nodes.indices {
            try await self.send(
                ["CLUSTER", "SETSLOT", RedisArgument(slot), "NODE", RedisArgument(targetID)], to: index)
        }
        return moved
    }

    /// Starts a node that replicates master `index`, and waits until it has synced. The
    /// caller stops it. Not for a cluster started with TLS.
    public func addReplica(of index: Int) async throws -> RedisServerProcess {
        precondition(self.tls == nil, "replicas of a TLS test cluster are not supported")
        let busPort = try await RedisServerProcess.freePort()
        let replica = try await RedisServerProcess.start(
            password: self.password,
            arguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", "\(busPort)",
                "--cluster-node-timeout", "2000",
            ] + (self.password.map { ["--masterauth", $0] } ?? []))
        do {
            let masterID = try await self.nodeID(index)
            try await self.send(
                ["CLUSTER", "MEET", "127.0.0.1", RedisArgument(replica.port), RedisArgument(busPort)], to: 0)
            let connection = try await RedisConnection.connect(
                to: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: replica.port), password: self.password),
                logger: testLogger)
            defer { connection.close() }
            let deadline = ContinuousClock.now + .seconds(30)
            // REPLICATE needs the master in the replica's node table first.
            var replicating = false
            var state = ""
            while ContinuousClock.now < deadline {
                if !replicating, try await connection.send(["CLUSTER", "NODES"]).expectString().contains(masterID) {
                    _ = try await connection.send(["CLUSTER", "REPLICATE", RedisArgument(masterID)])
                    replicating = true
                }
                state = try await connection.send(["INFO", "replication"]).expectString()
                if state.contains("master_link_status:up") { return replica }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw RedisError(code: .connectFailed, message: "the replica of node \(index) did not sync: \(state)")
        } catch {
            replica.stop()
            throw error
        }
    }

    public func stop() {
        for node in self.nodes { node.stop() }
    }

    private func join() async throws {
        let count = self.nodes.count
        for index in self.nodes.indices {
            let first = index * 16384 / count
            let last = (index + 1) * 16384 / count - 1
            try await self.send(["CLUSTER", "ADDSLOTSRANGE", RedisArgument(first), RedisArgument(last)], to: index)
        }
        for index in self.nodes.indices.dropFirst() {
            try await self.send(
                [
                    "CLUSTER", "MEET", "127.0.0.1", RedisArgument(self.nodes[index].port),
                    RedisArgument(self.busPorts[index]),
                ], to: 0)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var ready = true
            for index in self.nodes.indices where ready {
                let info = try await self.send(["CLUSTER", "INFO"], to: index).expectString()
                let slots = try await self.send(["CLUSTER", "SLOTS"], to: index).expectArray()
                ready = info.contains("cluster_state:ok") && slots.count == count
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisError(code: .connectFailed, message: "the local Redis Cluster did not form")
    }
}
