import PortcullisBus
import PortcullisRooms
import Testing

/// `rooms.yaml` is read by the edge's conf reader: its errors look like `portcullis check`'s,
/// and one load reports every mistake in the file.
@Suite struct RoomsSettingsTests {
    @Test func defaultsApplyToAMinimalFile() throws {
        let settings = try RoomsConfFile("redis:\n  url: redis://127.0.0.1:6379\napps: [echo]\n").load()

        #expect(settings.redisURL == "redis://127.0.0.1:6379")
        #expect(settings.prefix == "portcullis")
        #expect(settings.workerID == RoomsSettings.defaultWorkerID)
        #expect(settings.claimIdle == .seconds(30))
        #expect(settings.maxDeliveries == 5)
        #expect(settings.reapInterval == .seconds(5))
        #expect(settings.apps == ["echo"])
    }

    @Test func everyKeyIsRead() throws {
        let settings = try RoomsConfFile(
            """
            version: 1
            redis:
              url: redis://:pw@redis.internal:6380/2
            bus:
              prefix: staging
            worker:
              id: rooms-1
              claim_idle: 250ms
              max_deliveries: 2
              reap_interval: 1s500ms
            apps:
              - echo
              - cable-chat
            admin:
              address: 127.0.0.1:9091
            """
        ).load()

        #expect(settings.redisURL == "redis://:pw@redis.internal:6380/2")
        #expect(settings.adminAddress?.description == "127.0.0.1:9091")
        #expect(settings.prefix == "staging")
        #expect(settings.workerID == "rooms-1")
        #expect(settings.claimIdle == .milliseconds(250))
        #expect(settings.maxDeliveries == 2)
        #expect(settings.reapInterval == .milliseconds(1500))
        #expect(settings.apps == ["echo", "cable-chat"])
    }

    @Test func everyMistakeInOneFileIsReportedWithItsLine() throws {
        let conf = try RoomsConfFile(
            """
            version: 2
            redis:
              url: http://127.0.0.1:6379
            bus:
              prefix: "a b"
            worker:
              id: ""
              claim_idle: soon
              max_deliveries: 0
              reap_interval: 0s
            apps:
              - echo
              - echo
            """
        )

        #expect(
            conf.errors() == [
                "rooms.yaml:1: version: unsupported version 2 (this build reads version 1)",
                "rooms.yaml:3: redis.url: expected redis://host:port/db, rediss://host:port/db or unix:///path, got a different scheme",
                "rooms.yaml:5: bus.prefix: \"a b\" is not a valid name (1 to 64 letters, digits, \"_\", \"-\", \".\", \":\")",
                "rooms.yaml:7: worker.id: expected a consumer name without spaces, got \"\"",
                "rooms.yaml:8: worker.claim_idle: expected a duration like 30s, got \"soon\"",
                "rooms.yaml:9: worker.max_deliveries: must be at least 1, got 0",
                "rooms.yaml:10: worker.reap_interval: must be longer than 0s",
                "rooms.yaml:13: apps[1]: duplicate app \"echo\" (first at apps[0])",
            ]
        )
    }

    @Test func redisTakesAnACLUserAPasswordFileAndTLSLikeTheEdge() throws {
        let conf = try RoomsConfFile(
            """
            redis:
              url: rediss://redis.internal:6380/1
              username: rooms
              password_file: redis.pw
              tls: { ca_file: ca.pem, server_name: redis.internal }
            apps: [echo]
            """
        )
        try "s3cret\n".write(toFile: "\(conf.directory)/redis.pw", atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\n".write(toFile: "\(conf.directory)/ca.pem", atomically: true, encoding: .utf8)
        let configuration = try conf.load().redisConfiguration()
        #expect(configuration.username == "rooms")
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == 1)
        #expect(configuration.tls?.caFile == "\(conf.directory)/ca.pem")
        #expect(configuration.tls?.serverName == "redis.internal")
    }

    @Test func aPasswordInTheURLAndAPasswordFileAreRefused() throws {
        let conf = try RoomsConfFile(
            """
            redis:
              url: redis://:pw@127.0.0.1:6379
              password_file: redis.pw
            apps: [echo]
            """
        )
        #expect(
            conf.errors() == [
                "rooms.yaml:3: redis.password_file: the password is already in redis.url: give either credentials "
                    + "in the URL or username/password_file, not both"
            ])
    }

    @Test func aBareNumberIsNotADuration() throws {
        let conf = try RoomsConfFile(
            "redis: {url: redis://x}\nworker:\n  claim_idle: 30\n  reap_interval: 5\napps: [echo]\n")

        #expect(
            conf.errors() == [
                "rooms.yaml:3: worker.claim_idle: expected a duration like 30s, got \"30\" (did you mean \"30s\"?)",
                "rooms.yaml:4: worker.reap_interval: expected a duration like 30s, got \"5\" (did you mean \"5s\"?)",
            ]
        )
    }

    @Test func unknownKeysAreErrorsWithASuggestion() throws {
        let conf = try RoomsConfFile(
            """
            redis: {url: redis://x}
            workr:
              id: w
            worker:
              claimIdle: 1s
              max_delivery: 3
              colour: blue
            apps: [echo]
            """
        )

        #expect(
            conf.errors() == [
                "rooms.yaml:2: workr: unknown key (did you mean \"worker\"?)",
                "rooms.yaml:5: worker.claimIdle: unknown key (did you mean \"claim_idle\"?)",
                "rooms.yaml:6: worker.max_delivery: unknown key (did you mean \"max_deliveries\"?)",
                "rooms.yaml:7: worker.colour: unknown key",
            ]
        )
    }

    @Test func unknownAppsAreErrorsWithASuggestion() throws {
        let conf = try RoomsConfFile("redis: {url: redis://x}\napps:\n  - eco\n  - socketio\n  - chat-bot\n")
        let builtIn = RoomsConfFile.builtInApps.sorted().joined(separator: ", ")

        #expect(
            conf.errors() == [
                "rooms.yaml:3: apps[0]: unknown app \"eco\" (did you mean \"echo\"?)",
                "rooms.yaml:4: apps[1]: unknown app \"socketio\" (this build has \(builtIn))",
                "rooms.yaml:5: apps[2]: unknown app \"chat-bot\" (this build has \(builtIn))",
            ]
        )
    }

    @Test func missingAndEmptyKeysAreReported() throws {
        #expect(
            try RoomsConfFile("bus: {prefix: p}\n").errors() == [
                "rooms.yaml:1: redis: missing required key",
                "rooms.yaml:1: apps: missing required key",
            ]
        )
        #expect(
            try RoomsConfFile("redis: {}\napps: []\n").errors() == [
                "rooms.yaml:1: redis.url: missing required key",
                "rooms.yaml:2: apps: needs at least one app",
            ]
        )
    }

    @Test func fileProblemsHaveNoKey() throws {
        #expect(try RoomsConfFile("").errors() == ["rooms.yaml: file is empty"])
        #expect(
            try RoomsConfFile("redis:\n  url: [\n").errors().first?.hasPrefix("rooms.yaml:3: invalid YAML: ") == true)
        #expect(try RoomsConfFile("[echo]\n").errors() == ["rooms.yaml:1: expected a mapping, got a list"])
    }

    @Test func environmentVariablesExpand() throws {
        let conf = try RoomsConfFile(
            """
            redis:
              url: redis://${REDIS_HOST}:${REDIS_PORT:-6379}/0
            bus:
              prefix: ${BUS_PREFIX:-portcullis}
            worker:
              id: rooms-${HOSTNAME_FOR_TEST}
              claim_idle: ${CLAIM_IDLE:-30s}
            apps: [echo]
            """
        )

        let settings = try conf.load(environment: ["REDIS_HOST": "redis.internal", "HOSTNAME_FOR_TEST": "a1"])

        #expect(settings.redisURL == "redis://redis.internal:6379/0")
        #expect(settings.prefix == "portcullis")
        #expect(settings.workerID == "rooms-a1")
        #expect(settings.claimIdle == .seconds(30))
        #expect(
            conf.errors(environment: ["REDIS_HOST": "h"]) == [
                "rooms.yaml:6: worker.id: environment variable HOSTNAME_FOR_TEST is not set "
                    + "(write ${HOSTNAME_FOR_TEST:-default} to give a default)"
            ]
        )
    }
}
