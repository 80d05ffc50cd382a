import PortcullisSystemd
import ServiceLifecycle

/// Tells systemd the worker is up (`READY=1` once its services run), alive (`WATCHDOG=1`
/// from a task, so a starved cooperative pool stops the pings) and stopping (`STOPPING=1`
/// when a graceful shutdown starts).
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let status: String

    func run() async throws {
        self.notifier.ready(status: self.status)
        if let interval = self.notifier.watchdogInterval {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    self.notifier.watchdog()
                    try? await Task.sleep(for: interval)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        self.notifier.stopping()
    }
}
