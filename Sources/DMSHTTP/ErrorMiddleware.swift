import DMSCore
import Hummingbird
import Logging

/// Turns every error a route throws into the JSON error body, so no request ever gets an
/// empty 500 or Hummingbird's plain-text 404.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
