import DMSServerApp

@main
enum DeepModelBench {
    static func main() async {
        ProcessMemory.keepLargeAllocationsOffTheHeap()
        await BenchCommand.main()
    }
}
