import DMSCore
import DMSRuntime

/// The Swagger 2.0 document served by `GET /api-description`, shaped like the seed's example
/// (one `/<model>/predict` path per model, form fields `input0…`) but valid against the
/// Swagger 2.0 schema (for example `required` is a boolean, not the string "true").
enum APIDescription {
    static func document(models: [ServedModel], host: String) -> JSONValue {
        var paths: [(key: String, value: JSONValue)] = [
            ("/api-description", getOperation(id: "apiDescription", property: "description", type: .object([("type", .string("object"))]))),
            ("/ping", getOperation(id: "ping", property: "health", type: .object([("type", .string("string"))]))),
            ("/statistics", getOperation(id: "statistics", property: "models", type: .object([("type", .string("object"))]))),
        ]
        for model in models {
            paths.append(("/\(model.name)/predict", predictOperation(model)))
        }
        return .object([
            ("swagger", .string("2.0")),
            ("info", .object([("title", .string("Model Serving Apis")), ("version", .string("1.0.0"))])),
            ("host", .string(host)),
            ("schemes", .array([.string("http")])),
            ("paths", .object(paths)),
        ])
    }

    private static func getOperation(id: String, property: String, type: JSONValue) -> JSONValue {
        .object([
            ("get", .object([
                ("operationId", .string(id)),
                ("produces", .array([.string("application/json")])),
                ("responses", .object([
                    ("200", .object([
                        ("description", .string("OK")),
                        ("schema", .object([("type", .string("object")), ("properties", .object([(property, type)]))])),
                    ])),
                ])),
            ])),
        ])
    }

    private static func predictOperation(_ model: ServedModel) -> JSONValue {
        let parameters: [JSONValue]
        if let signature = model.signature {
            parameters = signature.inputs.enumerated().map { index, spec in
                let kind = signature.inputType == .jpeg ? "image" : "JSON tensor"
                return .object([
                    ("name", .string("input\(index)")),
                    ("in", .string("formData")),
                    ("description", .string("input\(index) ('\(spec.name)') should be \(kind) with shape: \(Array(spec.shape.dropFirst()))")),
                    ("required", .bool(true)),
                    ("type", .string("file")),
                ])
            }
        } else {
            parameters = [.object([
                ("name", .string("input0")),
                ("in", .string("formData")),
                ("description", .string("the model is not loaded, so its inputs are unknown")),
                ("required", .bool(true)),
                ("type", .string("file")),
            ])]
        }
        let errorSchema: JSONValue = .object([
            ("type", .string("object")),
            ("properties", .object([
                ("code", .object([("type", .string("integer"))])),
                ("type", .object([("type", .string("string"))])),
                ("message", .object([("type", .string("string"))])),
            ])),
        ])
        return .object([
            ("post", .object([
                ("operationId", .string("\(model.name)_predict")),
                ("consumes", .array([.string("multipart/form-data")])),
                ("produces", .array([.string("application/json")])),
                ("parameters", .array(parameters)),
                ("responses", .object([
                    ("200", .object([
                        ("description", .string("OK")),
                        ("schema", .object([("type", .string("object")), ("properties", .object([("prediction", .object([("type", .string("array")), ("items", .object([]))]))]))])),
                    ])),
                    ("400", .object([("description", .string("InvalidInput")), ("schema", errorSchema)])),
                    ("404", .object([("description", .string("ModelNotFound")), ("schema", errorSchema)])),
                    ("405", .object([("description", .string("MethodNotAllowed")), ("schema", errorSchema)])),
                    ("413", .object([("description", .string("PayloadTooLarge")), ("schema", errorSchema)])),
                    ("500", .object([("description", .string("InternalServerError")), ("schema", errorSchema)])),
                    ("501", .object([("description", .string("NotImplemented")), ("schema", errorSchema)])),
                    ("503", .object([("description", .string("ServiceUnavailable")), ("schema", errorSchema)])),
                    ("504", .object([("description", .string("DeadlineExceeded")), ("schema", errorSchema)])),
                ])),
            ])),
        ])
    }
}
