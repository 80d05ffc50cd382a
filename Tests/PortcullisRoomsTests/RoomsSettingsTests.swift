import PortcullisBus
import PortcullisRooms
import Testing

@Suite struct RoomsSettingsTests {
    @Test func defaultsApply() throws {
        let settings = try RoomsSettings.decode(
            yaml: "redis:\n  url: redis://127.0.0.1:6379\napps: [echo]\n", file: "rooms.yaml")
        #expect(settings.redisURL == "redis://127.0.0.1:6379")
        #expect(settings.prefix == "portcullis")
        #expect(settings.workerID == RoomsSettings.defaultWorkerID)
        #expect(settings.claimIdle == .seconds(30))
        #expect(settings.maxDeliveries == 5)
        #expect(settings.reapInterval == .seconds(5))
        #expect(settings.apps == ["echo"])
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            redis:
              url: redis://:pw@redis.internal:6380/2
            bus:
              prefix: staging
            worker:
              id: rooms-1
              claim_idle: 250ms
              max_deliveries: 2
              reap_interval: 1.5s
            apps:
              - echo
            """
        let settings = try RoomsSettings.decode(yaml: yaml, file: "rooms.yaml", knownApps: ["echo"])
        #expect(settings.prefix == "staging")
        #expect(settings.workerID == "rooms-1")
        #expect(settings.claimIdle == .milliseconds(250))
        #expect(settings.maxDeliveries == 2)
        #expect(settings.reapInterval == .milliseconds(1500))
    }

    @Test(arguments: [
        ("redis:\n  url: redis://x\nworkr: 1\napps: [echo]\n", "rooms.yaml:3: workr: unknown key"),
        (
            "redis:\n  url: redis://x\nworker:\n  claim_idle: soon\napps: [echo]\n",
            "rooms.yaml:4: worker.claim_idle: expected a positive duration"
        ),
        (
            "redis:\n  url: redis://x\nworker:\n  reap_interval: 0s\napps: [echo]\n",
            "rooms.yaml:4: worker.reap_interval: expected a positive duration"
        ),
        (
            "redis:\n  url: redis://x\nworker:\n  max_deliveries: 0\napps: [echo]\n",
            "rooms.yaml:4: worker.max_deliveries: expected an integer"
        ),
        ("redis:\n  url: redis://x\napps: [echo, chat]\n", "rooms.yaml:3: apps[1]: unknown app \"chat\""),
        ("redis:\n  url: redis://x\napps: [echo, echo]\n", "rooms.yaml:3: apps[1]: app \"echo\" listed twice"),
        ("redis:\n  url: redis://x\nbus:\n  prefix: \"a b\"\napps: [echo]\n", "rooms.yaml:4: bus.prefix: use 1…64"),
        ("apps: [echo]\n", "rooms.yaml:1: redis.url: missing key"),
        ("redis:\n  url: redis://x\n", "rooms.yaml:1: apps: missing key"),
        ("redis:\n  url: [\n", "rooms.yaml:"),
    ])
    func errorsSayFileLineAndKey(yaml: String, expected: String) {
        #expect {
            try RoomsSettings.decode(yaml: yaml, file: "rooms.yaml", knownApps: ["echo"])
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test func shippedConfigLoads() throws {
        let file = #filePath.replacingOccurrences(
            of: "Tests/PortcullisRoomsTests/RoomsSettingsTests.swift", with: "conf/rooms.yaml")
        let settings = try RoomsSettings.load(file: file, knownApps: Set(RoomsApps.builtIn.keys))
        #expect(settings.apps == ["echo", "socketio-reference", "cable-chat"])
        #expect(settings.prefix == StreamNames.defaultPrefix)
        #expect(settings.reapInterval == .seconds(5))
    }
}
