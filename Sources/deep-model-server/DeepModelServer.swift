import DMSServerApp

@main
enum DeepModelServer {
    static func main() async {
        await ServerCommand.main(services: .builtIn)
    }
}
