using System.Text.Json.Nodes;

namespace SovereignInference.Server.Http.Anthropic;

/// <summary>
/// Errors in the Anthropic shape, <c>{"type":"error","error":{"type":…,"message":…}}</c>, for every answer under
/// /v1/messages (validation, auth, routing, limits), so the Anthropic SDKs raise their typed exceptions.
/// </summary>
internal static class AnthropicErrors
{
    /// <summary>Whether the request belongs to the Anthropic API (its errors take this shape).</summary>
    public static bool Applies(HttpContext context) =>
        context.Request.Path.StartsWithSegments(MessagesEndpoints.PathPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Anthropic's error type for an HTTP status.</summary>
    public static string TypeFor(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static JsonObject Body(int status, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = TypeFor(status), ["message"] = message },
    };
}
