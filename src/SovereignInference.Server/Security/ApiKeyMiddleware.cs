using System.Globalization;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Grpc;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Security;

/// <summary>
/// The door of every HTTP route but the open ones (endpoints marked AllowAnonymous: /health/*): refuses new
/// requests while draining (503), checks <c>Authorization: Bearer &lt;key&gt;</c> (401 with an OpenAI error
/// body), then applies the key's rate limits (429 with Retry-After), holding its concurrency permit until the
/// response is complete. Which rule applies is decided by the endpoint routing chose, never by a request header:
/// only a request routed to a gRPC method on the gRPC listener is left to <see cref="ApiKeyInterceptor"/>, and a request that matched
/// no route still needs a key (so probing for routes tells an anonymous caller nothing).
/// </summary>
internal sealed partial class ApiKeyMiddleware(
    RequestDelegate next,
    ApiKeyStore keys,
    KeyRateLimiter limiter,
    InferenceEngine engine,
    ObservabilityOptions observability,
    ILogger<ApiKeyMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var endpoint = context.GetEndpoint();
        var isGrpcCall = endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null && GrpcListener.IsGrpcConnection(context);
        if (endpoint?.Metadata.GetMetadata<IAllowAnonymous>() is not null || isGrpcCall)
        {
            await next(context);
            return;
        }

        if (engine.IsDraining)
        {
            context.Response.Headers.RetryAfter = "5";
            await Write(context, StatusCodes.Status503ServiceUnavailable, "The server is shutting down and accepts no new requests", "server_error", "shutting_down");
            return;
        }

        if (keys.IsEmpty || (observability.Metrics.AllowAnonymous && path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }

        // Anthropic clients send the key as x-api-key; either header is accepted on every route.
        var presented = BearerToken(context.Request.Headers.Authorization.ToString())
            ?? (context.Request.Headers["x-api-key"].ToString() is { Length: > 0 } apiKey ? apiKey.Trim() : null);
        var key = presented is null ? null : keys.Authenticate(presented);
        if (key is null)
        {
            LogRejected(logger, path.Value ?? "", presented is null ? "no bearer token" : "unknown key");
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Write(
                context,
                StatusCodes.Status401Unauthorized,
                presented is null
                    ? "You didn't provide an API key. Provide it in an Authorization header (Authorization: Bearer YOUR_KEY) or an x-api-key header"
                    : "Incorrect API key provided.",
                "invalid_request_error",
                "invalid_api_key");
            return;
        }

        context.SetApiKeyName(key.Name);
        if (endpoint?.Metadata.GetMetadata<AdminOnly>() is not null && !key.Admin)
        {
            LogRejected(logger, path.Value ?? "", "key not marked admin");
            await Write(context, StatusCodes.Status403Forbidden, "This route needs an API key marked admin (Sovereign:ApiKeys:N:Admin=true)", "invalid_request_error", "insufficient_permissions");
            return;
        }

        using var decision = limiter.Admit(key.Name);
        if (!decision.IsAdmitted)
        {
            context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await Write(
                context,
                StatusCodes.Status429TooManyRequests,
                decision.Message!,
                decision.RefusedBy == RateLimitKind.Tokens ? "tokens" : "requests",
                "rate_limit_exceeded");
            return;
        }

        await next(context);
    }

    /// <summary>The token of an "Authorization: Bearer token" header, or null.</summary>
    internal static string? BearerToken(string header)
    {
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[Scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static Task Write(HttpContext context, int status, string message, string type, string code)
    {
        RequestMetrics.CountRefusal(context, status);
        return SecurityResponses.Write(context, status, message, type, code);
    }

    [LoggerMessage(EventId = ServerEventIds.AuthRefused, Level = LogLevel.Information, Message = "Refused {Path}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string path, string reason);
}
