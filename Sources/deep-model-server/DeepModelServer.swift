import DMSServerApp

@main
enum DeepModelServer {
    static func main() async {
        ProcessMemory.keepLargeAllocationsOffTheHeap()
        await ServerCommand.main()
    }
}
