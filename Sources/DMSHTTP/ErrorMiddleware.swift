import DMSCore
import Hummingbird
import Logging

/// Turns every error a route throws into the JSON error body, so no request ever gets an
/// empty 500 or Hummingbird's plain-text 404.
///
/// An error answer to a request that came with a body also ends the connection (`Connection:
/// close`, and its input closed on a `ModelServerRequestContext`): the route may not have read
/// the body (an unknown model, a `Content-Length` over the limit, a full queue) or stopped
/// half-way (`--request-body-timeout`, a broken chunked encoding), and Hummingbird would
/// otherwise read whatever is left, however large or slow, before the next request.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await answer(request, context: context, next: next)
        if response.status.code >= 400, Self.declaresBody(request) {
            response.headers[.connection] = "close"
            (context as? ModelServerRequestContext)?.channel.close(mode: .input, promise: nil)
        }
        return response
    }

    static func declaresBody(_ request: Request) -> Bool {
        request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0
    }

    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DMSError {
            if error.code == .internalError || error.code == .engineFailure {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error.message)"])
            }
            return try WireError(error).response(from: request, context: context)
        } catch let error as WireError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            return try WireError(error).response(from: request, context: context)
        } catch {
            context.logger.error("unexpected error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try WireError(status: .internalServerError, type: "InternalServerError", message: "internal error; see the server's log")
                .response(from: request, context: context)
        }
    }
}
