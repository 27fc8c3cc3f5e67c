import DMSServices

extension ServerCommand {
    /// Runs the `deep-model-server` command line with `services` offered by name: the entry
    /// point of a server binary built on this package with services of its own
    /// (`docs/swift-services.md`). `deep-model-server` itself runs with `ServiceCatalog.builtIn`.
    public static func main(services: ServiceCatalog) async {
        ProcessMemory.keepLargeAllocationsOffTheHeap()
        await ServiceCatalog.$current.withValue(services) {
            await main()
        }
    }
}
