import DMSCore
import DMSRuntime
import Foundation
import GRPCCore
import Testing

@testable import DMSGRPC

@Suite("gRPC inference messages")
struct InferMessageTests {
    private func input(_ name: String, _ datatype: String, _ shape: [Int64], _ fill: (inout Inference_InferTensorContents) -> Void = { _ in })
        -> Inference_ModelInferRequest.InferInputTensor
    {
        .with {
            $0.name = name
            $0.datatype = datatype
            $0.shape = shape
            var contents = Inference_InferTensorContents()
            fill(&contents)
            if contents != Inference_InferTensorContents() { $0.contents = contents }
        }
    }

    private func problem(_ message: Inference_ModelInferRequest) -> DMSError? {
        do {
            _ = try InferMessage(message)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTypedContentsOfEveryType() throws {
        let message = Inference_ModelInferRequest.with {
            $0.inputs = [
                input("f", "FP32", [1, 2]) { $0.fp32Contents = [1.5, -2] },
                input("d", "FP64", [2]) { $0.fp64Contents = [0.25, 8] },
                input("i8", "INT8", [2]) { $0.intContents = [-128, 127] },
                input("i16", "INT16", [1]) { $0.intContents = [-300] },
                input("i32", "INT32", [2]) { $0.intContents = [7, -7] },
                input("i64", "INT64", [1]) { $0.int64Contents = [1 << 40] },
                input("u8", "UINT8", [2]) { $0.uintContents = [0, 255] },
                input("b", "BOOL", [3]) { $0.boolContents = [true, false, true] },
                input("s", "BYTES", [2]) { $0.bytesContents = [Data("ab".utf8), Data()] },
            ]
        }
        let inputs = try InferMessage(message).request.inputs
        func tensor(_ index: Int) -> Tensor? {
            if case .tensor(let tensor) = inputs[index].content { return tensor }
            return nil
        }
        #expect(tensor(0) == Tensor(shape: [1, 2], floats: [1.5, -2]))
        #expect(tensor(1) == Tensor(dataType: .float64, shape: [2], bytes: [0.25, 8.0].withUnsafeBytes { Array($0) }))
        #expect(tensor(2)?.bytes == [0x80, 0x7f])
        #expect(tensor(3) == Tensor(dataType: .int16, shape: [1], bytes: [Int16(-300)].withUnsafeBytes { Array($0) }))
        #expect(tensor(4) == Tensor(dataType: .int32, shape: [2], bytes: [Int32(7), -7].withUnsafeBytes { Array($0) }))
        #expect(tensor(5) == Tensor(dataType: .int64, shape: [1], bytes: [Int64(1 << 40)].withUnsafeBytes { Array($0) }))
        #expect(tensor(6)?.bytes == [0, 255])
        #expect(tensor(7) == Tensor(dataType: .bool, shape: [3], bytes: [1, 0, 1]))
        #expect(inputs[8].content == .bytes([Array("ab".utf8), []], shape: [2]))
    }

    @Test func readsRawContentsAndRequestedOutputs() throws {
        let message = Inference_ModelInferRequest.with {
            $0.inputs = [input("x", "INT32", [1, 2]), input("s", "BYTES", [1])]
            $0.rawInputContents = [Data([1, 0, 0, 0, 2, 0, 0, 0]), Data([3, 0, 0, 0] + Array("jpg".utf8))]
            $0.outputs = [.with { $0.name = "OUTPUT1" }, .with { $0.name = "OUTPUT0" }]
        }
        let decoded = try InferMessage(message)
        #expect(decoded.request.inputs[0].content == .tensor(Tensor(dataType: .int32, shape: [1, 2], bytes: [1, 0, 0, 0, 2, 0, 0, 0])))
        #expect(decoded.request.inputs[1].content == .bytes([Array("jpg".utf8)], shape: [1]))
        #expect(decoded.outputs == ["OUTPUT1", "OUTPUT0"])
        let empty = Inference_ModelInferRequest.with {
            $0.inputs = [.with {
                $0.name = "x"
                $0.datatype = "FP32"
                $0.shape = [0]
                $0.contents = Inference_InferTensorContents()
            }]
        }
        #expect(try InferMessage(empty).outputs == nil)
    }

    @Test func refusesContentsThatDoNotFitTheShapeOrType() {
        let cases: [(Inference_ModelInferRequest, String)] = [
            (.with { $0.inputs = [] }, "no inputs"),
            (.with { $0.inputs = [input("x", "FP32", [3]) { $0.fp32Contents = [1, 2] }] }, "fp32_contents holds 2 values; shape [3] takes 3"),
            (.with { $0.inputs = [input("x", "FP32", [1]) { $0.intContents = [1] }] }, "fp32_contents holds 0 values"),
            (.with { $0.inputs = [input("x", "INT8", [1]) { $0.intContents = [200] }] }, "value 200 does not fit INT8"),
            (.with { $0.inputs = [input("x", "UINT8", [1]) { $0.uintContents = [256] }] }, "value 256 does not fit UINT8"),
            (.with { $0.inputs = [input("x", "FP16", [1]) { $0.fp32Contents = [1] }] }, "FP16 has no typed contents field"),
            (.with { $0.inputs = [input("x", "UINT64", [1]) { $0.uint64Contents = [1] }] }, "datatype 'UINT64' is not one this server takes"),
            (.with { $0.inputs = [input("x", "FP32", [-1])] }, "must hold non-negative integers"),
            (.with { $0.inputs = [input("x", "FP32", [1])] }, "has no contents"),
            (.with {
                $0.inputs = [input("x", "FP32", [1]), input("y", "FP32", [1])]
                $0.rawInputContents = [Data(count: 4)]
            }, "raw_input_contents has 1 entries for 2 inputs"),
            (.with {
                $0.inputs = [input("x", "FP32", [2])]
                $0.rawInputContents = [Data(count: 4)]
            }, "got 4 bytes of data; shape [2] of FP32 takes 2 elements of 4 bytes"),
            (.with {
                $0.inputs = [input("x", "FP32", [1]) { $0.fp32Contents = [1] }]
                $0.rawInputContents = [Data(count: 4)]
            }, "both typed contents and raw_input_contents"),
            (.with {
                $0.inputs = [input("x", "BOOL", [1])]
                $0.rawInputContents = [Data([2])]
            }, "BOOL element 0 is the byte 2"),
            (.with {
                $0.inputs = [input("x", "BYTES", [1])]
                $0.rawInputContents = [Data([9, 0, 0, 0, 1])]
            }, "claims 9 bytes"),
            (.with {
                $0.inputs = [.with {
                    $0.name = "x"
                    $0.datatype = "FP32"
                    $0.shape = [1]
                    $0.parameters = ["shared_memory_region": .with { $0.stringParam = "r" }]
                }]
            }, "shared memory extensions are not supported"),
            (.with {
                $0.inputs = [input("x", "FP32", [1]) { $0.fp32Contents = [1] }]
                $0.outputs = [.with {
                    $0.name = "y"
                    $0.parameters = ["classification": .with { $0.int64Param = 3 }]
                }]
            }, "classification extension is not supported"),
        ]
        for (message, expected) in cases {
            let error = problem(message)
            #expect(error?.code == .invalidInput, "\(expected)")
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error") should say \(expected)")
        }
    }

    @Test func readsTheTimeoutParameter() throws {
        var message = Inference_ModelInferRequest.with { $0.inputs = [input("x", "FP32", [1]) { $0.fp32Contents = [1] }] }
        #expect(try InferMessage(message).timeoutMicroseconds == nil)
        message.parameters["timeout"] = .with { $0.int64Param = 300_000 }
        #expect(try InferMessage(message).timeoutMicroseconds == 300_000)
        message.parameters["timeout"] = .with { $0.stringParam = "soon" }
        #expect(problem(message)?.message.contains("whole number of microseconds") == true)
        let now = ContinuousClock.now
        #expect(OpenInference.deadline(nil, timeoutMicroseconds: 5, from: now) == now + .microseconds(5))
        #expect(OpenInference.deadline(now + .seconds(1), timeoutMicroseconds: 5, from: now) == now + .microseconds(5))
        #expect(OpenInference.deadline(now + .microseconds(1), timeoutMicroseconds: 5, from: now) == now + .microseconds(1))
        #expect(OpenInference.deadline(nil, timeoutMicroseconds: nil, from: now) == nil)
    }

    @Test func refusesShapesOverTheElementLimitBeforeCopying() {
        let message = Inference_ModelInferRequest.with { $0.inputs = [input("x", "FP32", [1 << 40, 1 << 40])] }
        #expect(problem(message)?.code == .payloadTooLarge)
        let deep = Inference_ModelInferRequest.with { $0.inputs = [input("x", "FP32", Array(repeating: 1, count: 65))] }
        #expect(problem(deep)?.message.contains("its shape has 65 dimensions; at most 64") == true)
    }

    @Test func answersInRawOutputContents() {
        let tensor = Tensor(shape: [1, 2], floats: [1, 2])
        let response = Inference_ModelInferResponse(modelName: "m", id: "r1", outputs: [(name: "y", tensor: tensor)])
        #expect(response.modelVersion == "1")
        #expect(response.id == "r1")
        #expect(response.outputs.map(\.name) == ["y"])
        #expect(response.outputs[0].datatype == "FP32")
        #expect(response.outputs[0].shape == [1, 2])
        #expect(!response.outputs[0].hasContents)
        #expect(response.rawOutputContents == [Data(tensor.bytes)])
    }
}

@Suite("gRPC plumbing")
struct GRPCPlumbingTests {
    @Test func readsGRPCTimeouts() {
        #expect(GRPCTimeout.duration("100m") == .milliseconds(100))
        #expect(GRPCTimeout.duration("2S") == .seconds(2))
        #expect(GRPCTimeout.duration("1H") == .seconds(3600))
        #expect(GRPCTimeout.duration("3M") == .seconds(180))
        #expect(GRPCTimeout.duration("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeout.duration("5n") == .nanoseconds(5))
        for malformed in [nil, "", "m", "100", "100x", "-1S", "123456789S", "1.5S", "١S"] {
            #expect(GRPCTimeout.duration(malformed) == nil, "\(malformed ?? "nil")")
        }
    }

    @Test func mapsDomainErrorsToStatuses() {
        let expected: [(DMSError.Code, RPCError.Code)] = [
            (.invalidInput, .invalidArgument), (.notFound, .notFound), (.unavailable, .unavailable),
            (.resourceExhausted, .resourceExhausted), (.payloadTooLarge, .resourceExhausted), (.deadlineExceeded, .deadlineExceeded),
            (.requestTimeout, .deadlineExceeded), (.engineFailure, .internalError), (.internalError, .internalError), (.unsupported, .failedPrecondition),
            (.permissionDenied, .permissionDenied), (.conflict, .failedPrecondition),
        ]
        for (domain, status) in expected {
            let error = RPCError(DMSError(domain, "why"))
            #expect(error.code == status, "\(domain)")
            #expect(error.message == "why")
        }
    }

    @Test func bindsIPv4AndIPv6Hosts() {
        #expect(OpenInferenceGRPCListener.socketAddress(host: "127.0.0.1", port: 1).ipv4?.host == "127.0.0.1")
        #expect(OpenInferenceGRPCListener.socketAddress(host: "localhost", port: 1).ipv4?.host == "127.0.0.1")
        #expect(OpenInferenceGRPCListener.socketAddress(host: "0.0.0.0", port: 2).ipv4?.port == 2)
        #expect(OpenInferenceGRPCListener.socketAddress(host: "::", port: 3).ipv6?.host == "::")
        #expect(OpenInferenceGRPCListener.socketAddress(host: "[::1]", port: 3).ipv6?.host == "::1")
    }
}
