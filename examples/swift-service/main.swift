import DMSCore
import DMSServerApp
import DMSServices

// A server binary with a service of its own: `deep-model-server`'s whole command line, plus
// `--service iris_service`.
await ServerCommand.main(services: ServiceCatalog.builtIn.registering("iris_service") { context throws(DMSError) in
    try IrisService(context: context)
})
