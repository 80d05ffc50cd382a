import PortcullisHTTP

/// libFuzzer's entry point, also called by the replay driver: runs one input through
/// every parser of `PortcullisHTTP`. A broken invariant traps, which libFuzzer reports as
/// a crash and saves with the input that caused it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.run(FuzzCase(UnsafeRawBufferPointer(start: data, count: size)))
    return 0
}
