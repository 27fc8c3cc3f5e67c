import DMSCore
import DMSGRPC
import DMSHTTP
import DMSRuntime
import DMSServices
import DMSVision
import Foundation
import NIOCore

// Targets for request bodies: the seed's /predict body (multipart, JSON, a bare image), JSON
// tensors, the Open Inference Protocol's REST body (with binary tensors) and gRPC message, and
// compressed bodies.

extension FuzzTarget {
    static let predictBody = FuzzTarget(
        "predict-body",
        "POST /<model>/predict bodies (multipart/form-data, JSON, a bare or base64 image) read by the generic service against image and tensor signatures, inputs written as a worker would"
    ) { input in
        let contentType = input.choose(["multipart/form-data; boundary=dmsfuzz", "application/json", "image/jpeg", nil, "multipart/form-data; boundary=\"a b\""])
        let service = input.choose(FuzzModels.services)
        guard let request = try? PredictionRequest(httpBody: ByteBuffer(bytes: input.rest()), contentType: contentType),
            let prepared = try? service.inputs(for: request)
        else { return }
        prepared.writeEveryInput()
    }

    static let tensorJSON = FuzzTarget(
        "tensor-json",
        "JSON tensors of every data type: nested arrays against a signature's shape, and flat or nested `data` against a given shape"
    ) { input in
        let dataType = input.choose(DataType.allCases)
        let shape = input.shape()
        guard let value = try? JSONSerialization.jsonObject(with: Data(input.rest()), options: .fragmentsAllowed) else { return }
        if let tensor = try? TensorJSON.decode(elements: value, dataType: dataType, shape: shape, inputName: "x") {
            _ = TensorJSON.encode(tensor, name: "x").serialized()
        }
        let spec = ModelSignature.TensorSpec(name: "x", shape: shape.isEmpty ? [0] : [0] + shape.dropFirst(), dataType: dataType)
        _ = try? TensorJSON.decode(value, spec: spec, inputName: "x")
    }

    static let openInferenceREST = FuzzTarget(
        "v2-rest",
        "KServe v2 REST bodies: the JSON request with Triton's binary tensor extension (Inference-Header-Content-Length), checked against the test models' signatures; repository request bodies"
    ) { input in
        let mode = input.byte()
        if mode & 1 == 1 {
            _ = try? ModelServerRoutes.repositoryBody(ByteBuffer(bytes: input.rest()))
            return
        }
        let headerLength: String? = mode & 2 == 0 ? nil : mode & 4 == 0 ? String(input.uint16()) : " x"
        guard let message = try? OpenInferenceHTTPRequest(body: input.rest(), headerLength: headerLength) else { return }
        _ = try? OpenInference.select(message.outputs?.map(\.name), from: ["sum", "difference"])
        FuzzModels.checkAgainstSignatures(message.request)
    }

    static let openInferenceGRPC = FuzzTarget(
        "grpc-infer",
        "serialized gRPC ModelInferRequest messages: raw and typed contents of every data type, checked against the test models' signatures"
    ) { input in
        guard let message = try? InferMessage(serializedRequest: input.rest()) else { return }
        FuzzModels.checkAgainstSignatures(message.request)
    }

    static let contentEncoding = FuzzTarget(
        "content-encoding",
        "compressed request bodies (Content-Encoding gzip, deflate as zlib or raw) inflated under a size limit"
    ) { input in
        let encoding = input.choose([RequestContentEncoding.gzip, .deflate])
        let limit = Int(input.uint16()) + 1
        guard let decoded = try? encoding.decode(ByteBuffer(bytes: input.rest()), limit: limit) else { return }
        precondition(decoded.readableBytes <= limit, "an inflated body passed its limit")
    }

    static let rawTensor = FuzzTarget(
        "raw-tensor",
        "binary tensor data as the REST binary extension and gRPC raw contents carry it: fixed-width types and length-prefixed BYTES items"
    ) { input in
        let datatype = input.choose(DataType.allCases.map(\.rawValue) + ["BYTES", "fp32", "FP8", ""])
        let shape = input.shape(maxRank: 3, maxDimension: 9).map { $0 == 9 ? -1 : $0 }
        guard let parsed = try? InferenceRequest.Input(name: "x", datatype: datatype, shape: shape, rawBytes: input.rest()[...]) else { return }
        if case .bytes(let items, let itemShape) = parsed.content {
            precondition(items.count == Tensor.elementCount(of: itemShape), "BYTES items do not fill the shape")
        }
    }
}

/// The signatures and services request targets read against: image inputs (the seed's, and one
/// cropped and normalized in NHWC gray) and JSON tensors of several data types.
enum FuzzModels {
    static let signatures: [ModelSignature] = [
        #"{"inputs": [{"data_name": "data", "data_shape": [0, 3, 8, 8]}], "input_type": "image/jpeg", "outputs": [{"data_name": "softmax", "data_shape": [0, 10]}], "output_type": "application/json"}"#,
        #"{"inputs": [{"data_name": "image", "data_shape": [1, 6, 6, 1], "preprocess": {"layout": "NHWC", "resize": {"shorter_side": 9}, "center_crop": {"height": 6, "width": 6}, "scale": 0.5, "mean": [1], "std": [2], "interpolation": "bilinear"}}], "input_type": "image/jpeg", "outputs": [{"data_name": "out", "data_shape": [1, 2]}], "output_type": "application/json"}"#,
        #"{"inputs": [{"data_name": "gray", "data_shape": [1, 1, 40, 24]}], "input_type": "image/jpeg", "outputs": [{"data_name": "out", "data_shape": [1, 2]}], "output_type": "application/json"}"#,
        #"{"inputs": [{"data_name": "a", "data_shape": [0, 2]}, {"data_name": "b", "data_shape": [1, 3], "data_type": "INT64"}], "input_type": "application/json", "outputs": [{"data_name": "sum", "data_shape": [0, 2]}, {"data_name": "difference", "data_shape": [0, 2]}], "output_type": "application/json"}"#,
        #"{"inputs": [{"data_name": "flags", "data_shape": [0, 2, 2], "data_type": "BOOL"}, {"data_name": "bytes", "data_shape": [-1, 4], "data_type": "UINT8"}, {"data_name": "half", "data_shape": [1, 2], "data_type": "FP16"}], "input_type": "application/json", "outputs": [{"data_name": "out", "data_shape": [0]}], "output_type": "application/json"}"#,
    ].map { text in
        do {
            return try ModelSignature(json: Data(text.utf8))
        } catch {
            fatalError("a fuzz signature does not parse: \(error)")
        }
    }

    /// Images are capped at a million pixels so one input cannot spend the run decoding.
    static let preprocessor = ImagePreprocessor(maxPixels: 1 << 20)
    static let services = signatures.map { TensorOutputService(signature: $0, preprocessor: preprocessor) }
    static let imageSignatures = signatures.filter { $0.inputType == .jpeg }

    /// Puts `request` through what the server does before the queue for every test signature:
    /// inputs in signature order, then tensors validated against the signature, or BYTES items
    /// turned into the service's parts.
    static func checkAgainstSignatures(_ request: InferenceRequest) {
        for (signature, service) in zip(signatures, services) {
            guard let ordered = try? ServedModel.inSignatureOrder(request.inputs, signature: signature) else { continue }
            if let tensors = ServedModel.tensors(of: ordered) {
                let prepared = PreparedInputs(tensors: tensors)
                if (try? signature.validate(inputs: prepared)) != nil { prepared.writeEveryInput() }
            } else if let parts = try? ServedModel.serviceParts(of: ordered, signature: signature),
                let prepared = try? service.inputs(for: PredictionRequest(parts: parts))
            {
                prepared.writeEveryInput()
            }
        }
    }
}

extension PreparedInputs {
    /// Writes every input into a slot of its size, as a worker does before the engine call.
    func writeEveryInput() {
        for input in inputs {
            let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: input.byteCount, alignment: 16)
            defer { slot.deallocate() }
            try? input.write(into: slot)
        }
    }
}
