import DMSCore
import DMSRuntime
import DMSVision
import Foundation

/// The generic service (`mxnet_model_service`, like the seed's base service): inputs are read by
/// the signature's `input_type` — images as the vision service does, JSON tensors as nested
/// arrays (`TensorJSON`) — and the outputs come back as they are, one entry per output tensor,
/// in the field names of the KServe v2 protocol:
/// `{"prediction": [{"name": …, "shape": […], "datatype": "FP32", "data": [flat values]}]}`.
///
/// The signature's `postprocess.outputs` chooses which outputs are returned, in its order.
///
/// With `output_type: image/jpeg` each output is read as images (`ImageOutput`) and encoded as
/// JPEG: `{"prediction": [{"name": …, "shape": […], "content_type": "image/jpeg", "data":
/// ["<base64 JPEG per batch item>"]}]}`, or the JPEG bytes themselves when the client sends
/// `Accept: image/jpeg` and the answer holds one image.
public struct TensorOutputService: ModelService {
    public var signature: ModelSignature
    public var preprocessor: ImagePreprocessor

    public init(signature: ModelSignature, preprocessor: ImagePreprocessor) {
        self.signature = signature
        self.preprocessor = preprocessor
    }

    /// The outputs reported, as tensors or (for `output_type: image/jpeg`) as images.
    public var responseForm: ServiceResponseForm {
        let reported = signature.postprocess.outputs.map { wanted in wanted.compactMap { name in signature.outputs.first { $0.name == name } } } ?? signature.outputs
        return signature.outputType == .jpeg ? .images(outputs: reported) : .tensors(outputs: reported)
    }

    /// Reads JSON tensors of 64 KiB or more on the pool for blocking work (`BlockingWork`).
    public func prepare(_ request: PredictionRequest) async throws(DMSError) -> PreparedInputs {
        try await BlockingWork.run(isHeavy: request.byteCount >= BlockingWork.thresholdBytes) { [self] () throws(DMSError) in
            try inputs(for: request)
        }
    }

    /// Encodes outputs of 64 KiB or more (JPEG images, long tensors) on the pool for blocking work.
    public func postprocess(_ outputs: [Tensor], for request: PredictionRequest) async throws(DMSError) -> PredictionResponse {
        let outputBytes = outputs.reduce(0) { $0 + $1.bytes.count }
        return try await BlockingWork.run(isHeavy: outputBytes >= BlockingWork.thresholdBytes) { [self] () throws(DMSError) in
            try response(for: outputs, request: request)
        }
    }

    package func inputs(for request: PredictionRequest) throws(DMSError) -> PreparedInputs {
        guard signature.inputType == .json else {
            return try preprocessor.inputs(for: request, signature: signature)
        }
        let parts = try request.partsInSignatureOrder(signature)
        var tensors: [Tensor] = []
        for (index, (part, spec)) in zip(parts, signature.inputs).enumerated() {
            let inputName = "input\(index) ('\(spec.name)')"
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: Data(part.bytes), options: .fragmentsAllowed)
            } catch {
                throw DMSError(.invalidInput, "\(inputName): not valid JSON; expected a nested array shaped \(spec.shape)", cause: error)
            }
            tensors.append(try TensorJSON.decode(value, spec: spec, inputName: inputName, limits: TensorJSON.Limits()))
        }
        return PreparedInputs(tensors: tensors)
    }

    func response(for allOutputs: [Tensor], request: PredictionRequest) throws(DMSError) -> PredictionResponse {
        let allNames = allOutputs.indices.map { signature.outputs.indices.contains($0) ? signature.outputs[$0].name : "output\($0)" }
        // The outputs `postprocess.outputs` names, in its order; all of them by default.
        let chosen = signature.postprocess.outputs.map { wanted in wanted.compactMap { allNames.firstIndex(of: $0) } } ?? Array(allOutputs.indices)
        let outputs = chosen.map { allOutputs[$0] }, names = chosen.map { allNames[$0] }
        guard signature.outputType == .jpeg else {
            return .json(.object([("prediction", .array(zip(outputs, names).map { TensorJSON.encode($0, name: $1) }))]))
        }
        var encoded: [(name: String, shape: [Int], images: [[UInt8]])] = []
        for (tensor, name) in zip(outputs, names) {
            let images = try ImageOutput.images(from: tensor, name: name)
            var jpegs: [[UInt8]] = []
            for image in images { jpegs.append(try JPEGEncoder.encode(image)) }
            encoded.append((name, tensor.shape, jpegs))
        }
        if request.accepts("image/jpeg") {
            let all = encoded.flatMap(\.images)
            guard all.count == 1 else {
                throw DMSError(.invalidInput, "Accept: image/jpeg can carry one image, and this response has \(all.count); ask for application/json")
            }
            return .bytes(all[0], contentType: "image/jpeg")
        }
        let entries = encoded.map { entry -> JSONValue in
            .object([
                ("name", .string(entry.name)),
                ("shape", .array(entry.shape.map { .number(Double($0)) })),
                ("content_type", .string("image/jpeg")),
                ("data", .array(entry.images.map { .string(Data($0).base64EncodedString()) })),
            ])
        }
        return .json(.object([("prediction", .array(entries))]))
    }
}
