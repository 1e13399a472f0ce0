using SovereignInference.Server.Grpc;

namespace SovereignInference.Server.Http.OpenAi.Errors;

/// <summary>
/// Bodies for answers routing gives without running an endpoint: 404 (no route) and 405 (the route exists for other
/// methods, listed in Allow). Every other status without a body gets a generic error of its status, so no route of
/// the HTTP API ever answers an error with an empty body. The gRPC listener is left alone (gRPC has its own statuses).
/// </summary>
internal static class RouteErrors
{
    public static Task WriteAsync(HttpContext context)
    {
        if (GrpcListener.IsGrpcConnection(context))
        {
            return Task.CompletedTask;
        }

        var request = context.Request;
        var status = context.Response.StatusCode;
        var error = status switch
        {
            StatusCodes.Status404NotFound => new OpenAiError(status, new($"Unknown route: {request.Method} {request.Path}", "invalid_request_error", null, "unknown_route")),
            StatusCodes.Status405MethodNotAllowed => new OpenAiError(status, new(
                $"Method {request.Method} is not allowed on {request.Path}" + (context.Response.Headers.Allow.Count > 0 ? $"; use {context.Response.Headers.Allow}" : ""),
                "invalid_request_error",
                null,
                "method_not_allowed")),
            >= 500 => new OpenAiError(status, new($"The server answered {status}", "server_error", null, null)),
            _ => new OpenAiError(status, new($"The request was refused with status {status}", "invalid_request_error", null, null)),
        };
        return OpenAiErrorMapper.WriteAsync(context, error);
    }
}
