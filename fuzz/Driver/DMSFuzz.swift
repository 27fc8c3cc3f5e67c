import CLibFuzzer
import DMSFuzzTargets
import Foundation

/// The target this process fuzzes, read by libFuzzer's callback (a C function pointer, which
/// cannot capture it). Set once in `main` before libFuzzer starts.
nonisolated(unsafe) private var selectedTarget: FuzzTarget?

/// libFuzzer's callback, under the name its runtime refers to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// `dms-fuzz TARGET [libFuzzer flags] [corpus folders or inputs]`: runs one fuzz target under
/// libFuzzer; `dms-fuzz --list` names the targets. Built by `scripts/fuzz.sh` (`DMS_FUZZ=1`),
/// which links libFuzzer and AddressSanitizer. The target travels to the processes libFuzzer
/// starts itself (`-fork`, `-jobs`) in `DMS_FUZZ_TARGET`.
@main
enum DMSFuzz {
    static func main() {
        var arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == "--list" {
            for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
            return
        }
        if arguments.count > 1, FuzzTarget.named(arguments[1]) != nil {
            setenv("DMS_FUZZ_TARGET", arguments.remove(at: 1), 1)
        }
        guard let name = ProcessInfo.processInfo.environment["DMS_FUZZ_TARGET"], let target = FuzzTarget.named(name) else {
            FileHandle.standardError.write(Data("usage: dms-fuzz TARGET [libFuzzer flags] [corpus…]; targets: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        selectedTarget = target
        var argc = CInt(arguments.count)
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = .allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
        argv![arguments.count] = nil
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
}
