#if canImport(Darwin)
    import Darwin
#else
    import Glibc
#endif

/// CPU seconds (user + system) this process used so far: the load generator reports its
/// own cost, since a saturated generator inflates every latency it measures.
enum ProcessCPU {
    static func seconds() -> Double {
        var usage = rusage()
        #if canImport(Darwin)
            getrusage(RUSAGE_SELF, &usage)
        #else
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #endif
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }
}
