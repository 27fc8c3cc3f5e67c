import DMSCore
import DMSServices

/// An example of a service written in Swift: the bundled iris classifier
/// (`examples/iris-onnx/iris.onnx`) taking a flower's four measurements by name and answering
/// its species, where the built-in tensor service takes a `[[…4 numbers…]]` tensor and answers
/// raw tensors.
///
/// Request: `{"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4,
/// "petal width (cm)": 0.2}` (a JSON body, whose members reach the service as parts, or one
/// multipart field per measurement). Response: `{"prediction": {"species": "setosa",
/// "probability": 0.97}}`.
struct IrisService: ModelService {
    static let features = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    static let species = ["setosa", "versicolor", "virginica"]

    /// Refuses a model this service cannot drive, when it loads.
    init(context: ServiceContext) throws(DMSError) {
        let signature = context.artifacts.signature
        guard signature.inputs.count == 1, signature.inputs[0].shape.last == Self.features.count,
            signature.outputs.map(\.name).contains("probabilities")
        else {
            throw DMSError(.invalidModel, "iris_service serves a model with one input of \(Self.features.count) measurements and a 'probabilities' output")
        }
        probabilitiesIndex = signature.outputs.firstIndex { $0.name == "probabilities" }!
    }

    private let probabilitiesIndex: Int

    func prepare(_ request: PredictionRequest) throws(DMSError) -> PreparedInputs {
        var values: [Float] = []
        for feature in Self.features {
            guard let part = request.parts.first(where: { $0.name == feature }) else {
                throw DMSError(.invalidInput, "missing '\(feature)'; send \(Self.features.map { "'\($0)'" }.joined(separator: ", "))")
            }
            guard let value = Float(String(decoding: part.bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw DMSError(.invalidInput, "'\(feature)' must be a number of centimetres")
            }
            values.append(value)
        }
        return PreparedInputs(tensors: [Tensor(shape: [1, Self.features.count], floats: values)])
    }

    func postprocess(_ outputs: [Tensor], for request: PredictionRequest) throws(DMSError) -> PredictionResponse {
        let probabilities = outputs[probabilitiesIndex].floats
        guard probabilities.count == Self.species.count, let best = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) else {
            throw DMSError(.engineFailure, "the model returned \(probabilities.count) probabilities for \(Self.species.count) species")
        }
        return .json(.object([("prediction", .object([("species", .string(Self.species[best])), ("probability", .number(Double(probabilities[best])))]))]))
    }
}
