import DMSCore
import DMSRuntime

/// The OpenAPI 3.1 document served by `GET /openapi.json`: every endpoint of the REST API, each
/// model's request body and answers described from its signature and service, exactly enough
/// for a client generator, an API fuzzer or a person to know what a model takes and returns.
///
/// `/<model>/predict` (operation id `<model>_predict`, the seed's) documents:
/// - image inputs: `multipart/form-data` with one binary part per input (`input0`, `input1`, …)
///   of type `image/jpeg` or `image/png`; for a single-input model also the image as the whole
///   body;
/// - JSON tensor inputs: `application/json`, an object of nested arrays (for a single-input
///   model also one bare array), each array's element type, range and fixed sizes taken from the
///   signature, a batch or a single instance; the same arrays as `multipart/form-data` parts;
/// - the answer of the model's service (`ServiceResponseForm`) and the error body of every error
///   status the endpoint can return.
///
/// The server also takes an input by its `data_name` in place of `inputN`; the document names
/// the positional fields only, so a generated client has one parameter per input (the operation
/// description mentions the aliases).
public enum OpenAPIDocument {
    /// The document for the models of `models`, for a server reached at `serverURL`, with
    /// `GET /metrics` when the server serves it.
    public static func document(models: [ServedModel], serverURL: String, servesMetrics: Bool = false) -> JSONValue {
        var paths: [(key: String, value: JSONValue)] = [
            ("/", .object([("get", playground)])),
            ("/ping", .object([("get", ping)])),
            ("/health/live", .object([("get", liveness)])),
            ("/health/ready", .object([("get", readiness)])),
            ("/statistics", .object([("get", simpleGet(id: "statistics", summary: "What each model's scheduler is doing and has done", schema: statisticsSchema))])),
            ("/api-description", .object([("get", simpleGet(id: "apiDescription", summary: "The API as the seed described it (Swagger 2.0)", schema: wrapped("description")))])),
            ("/openapi.json", .object([("get", simpleGet(id: "openapi", summary: "This document (OpenAPI 3.1)", schema: .object([("type", "object")])))])),
        ]
        if servesMetrics {
            paths.append(("/metrics", .object([("get", metrics)])))
        }
        for model in models {
            paths.append(("/\(model.name)/predict", .object([("post", predictOperation(model))])))
        }
        return .object([
            ("openapi", "3.1.0"),
            ("info", .object([
                ("title", "Deep Model Server"),
                ("version", "1.0.0"),
                ("description", "Predictions from the models this server hosts, one POST /<model>/predict per model."),
            ])),
            ("servers", .array([.object([("url", .string(serverURL))])])),
            ("paths", .object(paths)),
            ("components", .object([("schemas", .object([("Error", errorSchema)]))])),
        ])
    }

    // MARK: Fixed endpoints

    private static var playground: JSONValue {
        textGet(id: "playground", summary: "A page to try the models in a browser", description: "The playground page", mediaType: "text/html")
    }

    private static var metrics: JSONValue {
        textGet(
            id: "metrics", summary: "The server's metrics in Prometheus' text format", description: "Prometheus text exposition format 0.0.4",
            mediaType: "text/plain")
    }

    private static func textGet(id: String, summary: String, description: String, mediaType: String) -> JSONValue {
        .object([
            ("operationId", .string(id)),
            ("summary", .string(summary)),
            ("responses", .object([
                ("200", .object([
                    ("description", .string(description)),
                    ("content", .object([(mediaType, .object([("schema", .object([("type", "string")]))]))])),
                ])),
            ])),
        ])
    }

    private static var liveness: JSONValue {
        simpleGet(id: "live", summary: "Liveness probe: the server answers", schema: objectSchema([("status", .object([("const", "alive")]))]))
    }

    private static var readiness: JSONValue {
        modelHealth(id: "ready", summary: "Readiness probe: every model is ready", member: "status", healthy: "ready", unhealthy: "not ready")
    }

    private static var ping: JSONValue {
        modelHealth(id: "ping", summary: "Whether every model is ready (the seed's shape)", member: "health", healthy: "healthy!", unhealthy: "unhealthy!")
    }

    /// An answer about the models' readiness: 200 `{member: healthy}`, or 503 `{member:
    /// unhealthy, "models": {name: state}}`.
    private static func modelHealth(id: String, summary: String, member: String, healthy: String, unhealthy: String) -> JSONValue {
        let notReady = objectSchema([
            (member, .object([("const", .string(unhealthy))])),
            ("models", .object([
                ("type", "object"),
                ("description", "Each model that is not ready, with its state: loading, unloading, or failed: <reason>."),
                ("additionalProperties", .object([("type", "string")])),
            ])),
        ])
        return .object([
            ("operationId", .string(id)),
            ("summary", .string(summary)),
            ("responses", .object([
                ("200", jsonResponse("Every model is ready", objectSchema([(member, .object([("const", .string(healthy))]))]))),
                ("503", jsonResponse("Some model is loading, unloading (the server is stopping) or failed to load", notReady)),
            ])),
        ])
    }

    private static func simpleGet(id: String, summary: String, schema: JSONValue) -> JSONValue {
        .object([
            ("operationId", .string(id)),
            ("summary", .string(summary)),
            ("responses", .object([("200", jsonResponse("OK", schema))])),
        ])
    }

    private static var statisticsSchema: JSONValue {
        objectSchema([
            ("models", .object([
                ("type", "object"),
                ("description", "Per model: its state, scheduler settings and counters."),
                ("additionalProperties", .object([("type", "object")])),
            ])),
        ])
    }

    private static func wrapped(_ member: String) -> JSONValue {
        objectSchema([(member, .object([("type", "object")]))])
    }

    // MARK: Predict

    private static func predictOperation(_ model: ServedModel) -> JSONValue {
        let loaded = model.readyModel
        var operation: [(key: String, value: JSONValue)] = [
            ("operationId", .string("\(model.name)_predict")),
            ("summary", .string("Predict with model '\(model.name)'")),
        ]
        operation.append(("x-dms-model", modelSummary(model)))
        guard let loaded else {
            operation.append(("description", .string("The model is not ready, so its inputs are not known yet; GET /ping tells when it is.")))
            operation.append(("requestBody", .object([("required", true), ("content", .object([("multipart/form-data", .object([("schema", .object([("type", "object")]))]))]))])))
            operation.append(("responses", .object(errorResponses)))
            return .object(operation)
        }
        let signature = loaded.artifacts.signature
        let fields = signature.inputs.enumerated().map { "input\($0.offset) ('\($0.element.name)')" }.joined(separator: ", ")
        operation.append(("description", .string(
            "Inputs: \(fields); a field may also be named by the input's name (in quotes). X-Request-Timeout-Ms bounds how long the request may wait for the model.")))
        operation.append(("parameters", .array([timeoutParameter])))
        operation.append(("requestBody", .object([("required", true), ("content", requestContent(signature))])))
        operation.append(("responses", .object([("200", successResponse(loaded.pipeline.service.responseForm))] + errorResponses)))
        return .object(operation)
    }

    /// The model at a glance, for tools that would rather not read schemas (the playground at
    /// `GET /`): `x-dms-model` on its operation, an OpenAPI extension.
    static func modelSummary(_ model: ServedModel) -> JSONValue {
        let state: JSONValue =
            switch model.state {
            case .loading: "loading"
            case .ready: "ready"
            case .failed(let reason): .string("failed: \(reason)")
            case .unloading: "unloading"
            }
        var summary: [(key: String, value: JSONValue)] = [("state", state)]
        guard let loaded = model.readyModel else { return .object(summary) }
        let signature = loaded.artifacts.signature
        func tensor(_ spec: ModelSignature.TensorSpec) -> [(key: String, value: JSONValue)] {
            [("name", .string(spec.name)), ("shape", .array(spec.shape.map { .integer(Int64($0)) })), ("datatype", .string(spec.dataType.rawValue))]
        }
        summary += [
            ("input_type", .string(signature.inputType.rawValue)),
            ("inputs", .array(signature.inputs.enumerated().map { .object([("field", .string("input\($0.offset)"))] + tensor($0.element)) })),
            ("outputs", .array(signature.outputs.map { .object(tensor($0)) })),
        ]
        switch loaded.pipeline.service.responseForm {
        case .classification(let topK): summary += [("answer", "classification"), ("top_k", .integer(Int64(topK)))]
        case .tensors: summary.append(("answer", "tensors"))
        case .images: summary.append(("answer", "images"))
        case .anyJSON: summary.append(("answer", "json"))
        }
        return .object(summary)
    }

    private static var timeoutParameter: JSONValue {
        .object([
            ("name", .string(ModelServerRoutes.timeoutHeader.rawName)),
            ("in", "header"),
            ("required", false),
            ("description", "How long, in milliseconds from its arrival, the request may take before it is answered 504 DeadlineExceeded instead of waiting for the model."),
            ("schema", .object([("type", "integer"), ("minimum", .integer(0)), ("maximum", .integer(Int64.max))])),
        ])
    }

    private static func requestContent(_ signature: ModelSignature) -> JSONValue {
        let names = signature.inputs.indices.map { "input\($0)" }
        switch signature.inputType {
        case .jpeg:
            let imagePart: JSONValue = .object([
                ("type", "string"), ("format", "binary"), ("contentMediaType", "image/jpeg"),
            ])
            var content: [(key: String, value: JSONValue)] = [
                ("multipart/form-data", .object([
                    ("schema", objectSchema(zip(names, signature.inputs).map { name, spec in
                        (name, withDescription(imagePart, "'\(spec.name)': a JPEG or PNG image; it becomes \(imageDescription(spec))"))
                    })),
                    ("encoding", .object(names.map { ($0, .object([("contentType", "image/jpeg, image/png")])) })),
                ])),
            ]
            if signature.inputs.count == 1 {
                let raw: JSONValue = .object([("schema", .object([("type", "string"), ("format", "binary")]))])
                content.append(("image/jpeg", raw))
                content.append(("image/png", raw))
            }
            return .object(content)
        case .json:
            let tensors = signature.inputs.map(inputTensorSchema)
            let object = objectSchema(Array(zip(names, tensors)))
            let jsonBody = signature.inputs.count == 1 ? .object([("anyOf", .array([object, tensors[0]]))]) : object
            return .object([
                ("application/json", .object([("schema", jsonBody)])),
                ("multipart/form-data", .object([
                    ("schema", object),
                    ("encoding", .object(names.map { ($0, .object([("contentType", "application/json")])) })),
                ])),
            ])
        }
    }

    private static func imageDescription(_ spec: ModelSignature.TensorSpec) -> String {
        "an input of shape \(spec.shape) (first dimension: the batch)"
    }

    /// The nested arrays a JSON input takes: its full shape (a batch), or, when the batch may
    /// be 1, one dimension less (a single instance).
    static func inputTensorSchema(_ spec: ModelSignature.TensorSpec) -> JSONValue {
        let element = elementSchema(spec.dataType, output: false)
        let batch = nestedArray(spec.shape[...], element: element)
        var description = "\(spec.dataType.rawValue) values shaped \(spec.shape) (0 or -1: any size)"
        if spec.dataType.isFloatingPoint {
            description += "; \"NaN\", \"Infinity\" and \"-Infinity\" are taken for those values"
        }
        guard spec.shape.count >= 2, spec.shape[0] <= 1 else {
            return withDescription(batch, "'\(spec.name)': \(description)")
        }
        let single = nestedArray(spec.shape.dropFirst(), element: element)
        return .object([
            ("description", .string("'\(spec.name)': \(description); or one instance, without the batch dimension")),
            ("anyOf", .array([batch, single])),
        ])
    }

    private static func nestedArray(_ shape: ArraySlice<Int>, element: JSONValue) -> JSONValue {
        guard let size = shape.first else { return element }
        var schema: [(key: String, value: JSONValue)] = [("type", "array"), ("items", nestedArray(shape.dropFirst(), element: element))]
        if size > 0 {
            schema += [("minItems", .integer(Int64(size))), ("maxItems", .integer(Int64(size)))]
        } else {
            schema.append(("minItems", .integer(1)))
        }
        return .object(schema)
    }

    /// The JSON values one element of `type` may be: what `TensorJSON` accepts on input and
    /// writes on output. Float outputs may be the strings `"NaN"`, `"Infinity"` and
    /// `"-Infinity"`; inputs take them too, but an input element is documented as a number only
    /// (the strings are in the input's description): a union of number and string makes every
    /// element a wrapper object in generated clients (openapi-generator's Python client cannot
    /// even build a request from plain numbers then).
    static func elementSchema(_ type: DataType, output: Bool) -> JSONValue {
        func float(_ bound: Double?) -> JSONValue {
            var number: [(key: String, value: JSONValue)] = [("type", "number")]
            if let bound {
                // Values from `bound` on round to infinity in the type: out of its range.
                number += [("exclusiveMinimum", .number(-bound)), ("exclusiveMaximum", .number(bound))]
            }
            guard output else { return .object(number) }
            return .object([("anyOf", .array([.object(number), .object([("enum", .array(["NaN", "Infinity", "-Infinity"]))])]))])
        }
        func integer(_ low: Int64, _ high: Int64) -> JSONValue {
            .object([("type", "integer"), ("minimum", .integer(low)), ("maximum", .integer(high))])
        }
        switch type {
        // 2^128 - 2^103: halfway between FP32's largest finite value and 2^128.
        case .float32: return float(340_282_356_779_733_661_637_539_395_458_142_568_448)
        // 65520: halfway between FP16's largest finite value (65504) and 2^16.
        case .float16: return float(65520)
        case .float64: return float(nil)
        case .int8: return integer(Int64(Int8.min), Int64(Int8.max))
        case .int16: return integer(Int64(Int16.min), Int64(Int16.max))
        case .int32: return integer(Int64(Int32.min), Int64(Int32.max))
        case .int64: return integer(Int64.min, Int64.max)
        case .uint8: return integer(0, 255)
        case .bool: return .object([("anyOf", .array([.object([("type", "boolean")]), .object([("enum", .array([.integer(0), .integer(1)]))])]))])
        }
    }

    // MARK: Answers

    private static func successResponse(_ form: ServiceResponseForm) -> JSONValue {
        switch form {
        case .classification(let topK):
            let entry = objectSchema([
                ("class", .object([("type", "string"), ("description", "The label from synset.txt or the signature, else the output index")])),
                ("probability", .object([("type", .array(["number", "null"])), ("description", "null when the model's score is not a number")])),
            ])
            let perItem: JSONValue = .object([("type", "array"), ("maxItems", .integer(Int64(topK))), ("items", entry)])
            return jsonResponse("The top \(topK) classes of each image, most probable first", objectSchema([
                ("prediction", .object([("type", "array"), ("description", "One list per image"), ("items", perItem)])),
            ]))
        case .tensors(let outputs):
            let entries = outputs.map { spec in
                outputEntry(spec, extra: [("datatype", .object([("const", .string(spec.dataType.rawValue))]))], data: elementSchema(spec.dataType, output: true))
            }
            return jsonResponse("The outputs, flattened in row-major order", predictionList(entries))
        case .images(let outputs):
            let jpeg: JSONValue = .object([("type", "string"), ("contentEncoding", "base64"), ("contentMediaType", "image/jpeg")])
            let entries = outputs.map { spec in
                outputEntry(spec, extra: [("content_type", .object([("const", "image/jpeg")]))], data: jpeg)
            }
            return .object([
                ("description", "The output images as base64 JPEG, one per batch item; or, for a client that accepts image/jpeg and a single image, the JPEG itself"),
                ("content", .object([
                    ("application/json", .object([("schema", predictionList(entries))])),
                    ("image/jpeg", .object([("schema", .object([("type", "string"), ("format", "binary")]))])),
                ])),
            ])
        case .anyJSON:
            return jsonResponse("The service's answer: any JSON document", .object([]))
        }
    }

    private static func outputEntry(_ spec: ModelSignature.TensorSpec, extra: [(key: String, value: JSONValue)], data: JSONValue) -> JSONValue {
        objectSchema(
            [
                ("name", .object([("const", .string(spec.name))])),
                ("shape", .object([
                    ("type", "array"), ("items", .object([("type", "integer"), ("minimum", .integer(0))])),
                    ("minItems", .integer(Int64(spec.shape.count))), ("maxItems", .integer(Int64(spec.shape.count))),
                ])),
            ] + extra + [("data", .object([("type", "array"), ("items", data)]))])
    }

    /// `{"prediction": [...]}` with one entry per reported output, in the service's order. (A
    /// list of per-position schemas, `prefixItems`, would say the order too; schemathesis 4 does
    /// not read it in responses, and each entry's `name` const tells them apart.)
    private static func predictionList(_ entries: [JSONValue]) -> JSONValue {
        objectSchema([
            ("prediction", .object([
                ("type", "array"), ("items", entries.count == 1 ? entries[0] : .object([("anyOf", .array(entries))])),
                ("minItems", .integer(Int64(entries.count))), ("maxItems", .integer(Int64(entries.count))),
            ])),
        ])
    }

    // MARK: Errors

    /// The error body (`WireError`).
    private static var errorSchema: JSONValue {
        objectSchema([
            ("code", .object([("type", "integer"), ("description", "The HTTP status")])),
            ("type", .object([("type", "string"), ("description", "The kind of error; see the README's Errors section")])),
            ("message", .object([("type", "string"), ("description", "What went wrong, for a person")])),
        ])
    }

    /// Every error status a prediction can get, with what it means.
    private static let errorMeanings: KeyValuePairs<String, String> = [
        "400": "InvalidInput: the request does not fit the model's signature or is malformed",
        "404": "ModelNotFound: no model by that name (it was removed)",
        "413": "PayloadTooLarge: the body or an image is larger than the server's limits",
        "500": "InternalServerError: the engine or the server failed",
        "501": "NotImplemented: the model needs a feature this server lacks",
        "503": "ServiceUnavailable: the model is not ready, or its queue is full (see Retry-After)",
        "504": "DeadlineExceeded: X-Request-Timeout-Ms ran out before the model could run the request",
    ]

    private static var errorResponses: [(key: String, value: JSONValue)] {
        errorMeanings.map { status, meaning in
            var response = jsonResponse(meaning, .object([("$ref", "#/components/schemas/Error")]))
            if status == "503", case .object(var members) = response {
                members.append(("headers", .object([
                    ("Retry-After", .object([
                        ("description", "Seconds after which a retry may succeed, when the queue was full"),
                        ("schema", .object([("type", "integer")])),
                    ])),
                ])))
                response = .object(members)
            }
            return (status, response)
        }
    }

    // MARK: Building blocks

    private static func jsonResponse(_ description: String, _ schema: JSONValue) -> JSONValue {
        .object([("description", .string(description)), ("content", .object([("application/json", .object([("schema", schema)]))]))])
    }

    /// An object with exactly these members, all required.
    private static func objectSchema(_ properties: [(key: String, value: JSONValue)]) -> JSONValue {
        .object([
            ("type", "object"),
            ("properties", .object(properties)),
            ("required", .array(properties.map { .string($0.key) })),
            ("additionalProperties", false),
        ])
    }

    private static func withDescription(_ schema: JSONValue, _ description: String) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        return .object([("description", .string(description))] + members)
    }
}
