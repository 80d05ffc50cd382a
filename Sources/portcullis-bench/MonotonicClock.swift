#if canImport(Darwin)
    import Darwin
#else
    import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds.
///
/// The clock is system-wide, so a timestamp written into a payload by one process (the
/// publisher, Python's `time.monotonic_ns()`) can be subtracted from a reading in another
/// (a subscriber): that difference is the whole path's latency, with no wall-clock steps.
enum MonotonicClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Seconds between two readings, for rates and progress lines.
    static func seconds(from start: UInt64, to end: UInt64) -> Double {
        Double(end &- start) / 1e9
    }
}
