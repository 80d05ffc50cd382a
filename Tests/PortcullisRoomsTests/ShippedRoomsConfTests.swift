import Foundation
import PortcullisBus
import PortcullisRooms
import Testing

/// The worker's conf file in the repository's `conf/` must always pass
/// `portcullis-rooms check`, which loads it with the binary's built-in apps.
@Suite struct ShippedRoomsConfTests {
    @Test func roomsConfLoadsWithTheBuiltInApps() throws {
        let file = URL(fileURLWithPath: #filePath).appendingPathComponent("../../../conf/rooms.yaml").standardized.path

        let settings = try RoomsSettings.load(file: file, knownApps: RoomsConfFile.builtInApps, environment: [:])

        #expect(settings.redisURL == "redis://127.0.0.1:6379")
        #expect(settings.prefix == StreamNames.defaultPrefix)
        #expect(settings.workerID == RoomsSettings.defaultWorkerID)
        #expect(settings.claimIdle == .seconds(30))
        #expect(settings.maxDeliveries == 5)
        #expect(settings.reapInterval == .seconds(5))
        // The shipped worker serves every app this build has.
        #expect(settings.apps.sorted() == RoomsApps.builtIn.keys.sorted())
    }
}
