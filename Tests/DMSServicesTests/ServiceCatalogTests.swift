import DMSCore
import DMSServices
import Foundation
import Testing

/// A service that answers its own name, to see which one the catalog picked.
private struct NamedService: ModelService {
    var name: String
    func prepare(_ request: PredictionRequest) throws(DMSError) -> PreparedInputs { PreparedInputs(tensors: []) }
    func postprocess(_ outputs: [Tensor], for request: PredictionRequest) throws(DMSError) -> PredictionResponse { .json(.string(name)) }
}

@Suite("service catalog")
struct ServiceCatalogTests {
    private let catalog = ServiceCatalog.builtIn.registering("mine", aliases: ["my"]) { _ throws(DMSError) in NamedService(name: "mine") }

    private func artifacts(manifestService: String? = nil, inputType: ModelSignature.ContentType = .json) throws -> ModelArtifacts {
        let signature = try ModelSignature(
            inputs: [.init(name: "x", shape: inputType == .jpeg ? [0, 1, 2, 2] : [0, 4])], inputType: inputType,
            outputs: [.init(name: "y", shape: [0, 2])], outputType: .json)
        return ModelArtifacts(
            directory: URL(fileURLWithPath: "/m"), signature: signature, engineFiles: .init(format: "test", files: [:]), labels: nil,
            manifestService: manifestService)
    }

    private func chosen(_ service: any ModelService) throws -> String {
        if let named = service as? NamedService { return named.name }
        return String(describing: type(of: service))
    }

    @Test func namesAliasesAndSeedFileNames() {
        #expect(catalog.names == ["mxnet_vision_service", "mxnet_model_service", "mine"])
        #expect(catalog.canonicalName("vision") == "mxnet_vision_service")
        #expect(catalog.canonicalName("mxnet_model_service.py") == "mxnet_model_service")
        #expect(catalog.canonicalName("my") == "mine")
        #expect(catalog.canonicalName("mine.py") == "mine")
        #expect(catalog.canonicalName("other") == nil)
        #expect(ServiceCatalog.builtIn.canonicalName("mine") == nil)
    }

    @Test func theRequestedServiceWinsOverTheManifestAndTheDefault() async throws {
        let make = catalog.factory(maxImagePixels: 100)
        let description = PredictorDescription(outputNames: ["y"], outputActivation: .none)
        #expect(try chosen(await make(try artifacts(), description, "my", "m")) == "mine")
        #expect(try chosen(await make(try artifacts(manifestService: "mine"), description, nil, "m")) == "mine")
        #expect(try chosen(await make(try artifacts(manifestService: "mine"), description, "tensor", "m")) == "TensorOutputService")
        #expect(try chosen(await make(try artifacts(inputType: .jpeg), description, nil, "m")) == "VisionService")
    }

    @Test func aManifestNamingAServiceTheBinaryLacksIsALoadError() async throws {
        let make = ServiceCatalog.builtIn.factory(maxImagePixels: 100)
        let description = PredictorDescription(outputNames: ["y"], outputActivation: .none)
        let unknown = try artifacts(manifestService: "mine")
        await #expect { try await make(unknown, description, nil, "m") } throws: {
            ($0 as? DMSError)?.message.contains("MANIFEST.json names the service 'mine', which neither this server") == true
        }
    }
}
