import DMSServerApp

@main
enum DeepModelBench {
    static func main() async {
        await BenchCommand.main()
    }
}
