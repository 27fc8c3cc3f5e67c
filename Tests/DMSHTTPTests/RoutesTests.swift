import DMSCore
import DMSModelStore
import DMSRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DMSHTTP

/// The REST routes over a registry whose one model never loads (no engine is involved):
/// every answer that does not need a model, and every refusal, as a client sees it.
@Suite("REST routes")
struct RoutesTests {
    private func withServer(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let registry = ModelRegistry()
        try registry.add(ModelSpec(name: "m", location: .file(URL(fileURLWithPath: "/nowhere/m.model"))))
        let routes = ModelServerRoutes(registry: registry, configuration: HTTPConfiguration(maxBodyBytes: 1000))
        let app = Application(router: routes.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live, test)
    }

    /// The JSON body of a response, as an object.
    private func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    private func expectError(_ response: TestResponse, status: HTTPResponse.Status, type: String, mentioning fragment: String) throws {
        #expect(response.status == status)
        #expect(response.headers[.contentType] == "application/json")
        let body = try json(response)
        #expect(body["code"] as? Int == status.code)
        #expect(body["type"] as? String == type)
        #expect((body["message"] as? String)?.contains(fragment) == true, "\(body)")
    }

    @Test func pingReportsModelsThatAreNotReady() async throws {
        try await withServer { client in
            let response = try await client.execute(uri: "/ping", method: .get)
            #expect(response.status == .serviceUnavailable)
            let body = try json(response)
            #expect(body["health"] as? String == "unhealthy!")
            #expect((body["models"] as? [String: String]) == ["m": "loading"])
        }
    }

    /// A model still loading makes the server alive but not ready.
    @Test func probesWhileAModelLoads() async throws {
        try await withServer { client in
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
            #expect(try json(live)["status"] as? String == "alive")
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            let body = try json(ready)
            #expect(body["status"] as? String == "not ready")
            #expect((body["models"] as? [String: String]) == ["m": "loading"])
        }
    }

    @Test func unknownPathsAndMethodsAreJSONErrors() async throws {
        try await withServer { client in
            try expectError(try await client.execute(uri: "/nope", method: .get), status: .notFound, type: "NotFound", mentioning: "api-description")
            let wrongMethod = try await client.execute(uri: "/ping", method: .delete)
            try expectError(wrongMethod, status: .methodNotAllowed, type: "MethodNotAllowed", mentioning: "use GET")
            #expect(wrongMethod.headers[.allow] == "GET, HEAD")
            let getPredict = try await client.execute(uri: "/m/predict", method: .get)
            try expectError(getPredict, status: .methodNotAllowed, type: "MethodNotAllowed", mentioning: "use POST")
            #expect(getPredict.headers[.allow] == "POST")
            for method: HTTPRequest.Method in [.options, .trace] {
                let refused = try await client.execute(uri: "/statistics", method: method)
                try expectError(refused, status: .methodNotAllowed, type: "MethodNotAllowed", mentioning: "use GET")
                #expect(refused.headers[.allow] == "GET, HEAD")
            }
            let head = try await client.execute(uri: "/m/predict", method: .head)
            #expect(head.status == .methodNotAllowed && head.headers[.allow] == "POST")
            // HEAD on a GET path is GET without the body.
            let ping = try await client.execute(uri: "/ping", method: .head)
            #expect(ping.status == .serviceUnavailable && ping.body.readableBytes == 0)
        }
    }

    /// Each on a connection of its own: an error answer to a request with a body closes the
    /// connection (`ErrorMiddleware`), and the test client does not reconnect.
    @Test(arguments: [
        ("/other/predict", [:], 1, HTTPResponse.Status.notFound, "ModelNotFound", "this server serves m"),
        ("/m/predict", [:], 1, .serviceUnavailable, "ServiceUnavailable", "still loading"),
        ("/m/predict", [ModelServerRoutes.timeoutHeader: "soon"], 1, .badRequest, "InvalidInput", "X-Request-Timeout-Ms"),
        ("/m/predict", [:], 1001, .contentTooLarge, "PayloadTooLarge", "limit"),
    ] as [(String, HTTPFields, Int, HTTPResponse.Status, String, String)])
    func predictRefusalsComeBeforeAnyModelWork(
        uri: String, headers: HTTPFields, bodyBytes: Int, status: HTTPResponse.Status, type: String, fragment: String
    ) async throws {
        try await withServer { client in
            let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(repeating: 0x78, count: bodyBytes))
            try self.expectError(response, status: status, type: type, mentioning: fragment)
            #expect(response.headers[.connection] == "close")
        }
    }

    @Test func statisticsAndTheDescriptionListTheModel() async throws {
        try await withServer { client in
            let statistics = try json(try await client.execute(uri: "/statistics", method: .get))
            #expect((statistics["models"] as? [String: [String: String]]) == ["m": ["state": "loading"]])
            let description = try json(try await client.execute(uri: "/api-description", method: .get))
            let document = try #require(description["description"] as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            #expect(Set(paths.keys) == ["/api-description", "/ping", "/statistics", "/m/predict"])
        }
    }
}
