using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;
using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Observability;

/// <summary>Why a request was refused before it became an engine call (the <c>reason</c> label).</summary>
public enum RefusalReason
{
    /// <summary>HTTP 401 / gRPC UNAUTHENTICATED: no valid API key.</summary>
    Unauthenticated,

    /// <summary>HTTP 429 / gRPC RESOURCE_EXHAUSTED: the key's rate or token limit.</summary>
    RateLimited,

    /// <summary>HTTP 404 / gRPC NOT_FOUND: the request names a model the server does not serve.</summary>
    ModelNotFound,

    /// <summary>HTTP 413 / gRPC RESOURCE_EXHAUSTED: the body or message is over the configured limit.</summary>
    TooLarge,

    /// <summary>gRPC: the request message is not a valid frame or protobuf message.</summary>
    Malformed,

    /// <summary>HTTP 400/403: a Host that is not a name of this server (DNS rebinding) or a foreign Origin.</summary>
    CrossSite,
}

/// <summary>
/// The server's request counters beside the engine's: <c>sovereign_requests_refused_total</c> (refusals before
/// the engine) and <c>sovereign_server_errors_total</c> (HTTP 5xx, gRPC UNKNOWN/INTERNAL/UNAVAILABLE/DATA_LOSS).
/// Label values come only from fixed sets: the route is the matched route pattern or gRPC method (from the
/// server's own endpoint table, "unmatched" otherwise), never the raw path or a field of the request.
/// </summary>
public static class RequestMetrics
{
    /// <summary>The route label of a request that matched no endpoint.</summary>
    public const string Unmatched = "unmatched";

    /// <summary>Counts a refusal of <paramref name="context"/>'s request.</summary>
    public static void CountRefusal(HttpContext context, RefusalReason reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (transport, route) = RouteOf(context);
        context.RequestServices.GetService<InferenceEngine>()?.Telemetry.RecordRefusal(transport, route, Label(reason));
    }

    /// <summary>Counts an HTTP refusal written with <paramref name="status"/> (401, 404, 413, 429; other statuses are not refusals).</summary>
    public static void CountRefusal(HttpContext context, int status)
    {
        RefusalReason? reason = status switch
        {
            StatusCodes.Status401Unauthorized => RefusalReason.Unauthenticated,
            StatusCodes.Status404NotFound => RefusalReason.ModelNotFound,
            StatusCodes.Status413PayloadTooLarge => RefusalReason.TooLarge,
            StatusCodes.Status429TooManyRequests => RefusalReason.RateLimited,
            _ => null,
        };
        if (reason is { } r)
        {
            CountRefusal(context, r);
        }
    }

    /// <summary>The label of a reason (snake_case, a fixed set).</summary>
    public static string Label(RefusalReason reason) => reason switch
    {
        RefusalReason.Unauthenticated => "unauthenticated",
        RefusalReason.RateLimited => "rate_limited",
        RefusalReason.ModelNotFound => "model_not_found",
        RefusalReason.TooLarge => "too_large",
        RefusalReason.Malformed => "malformed",
        RefusalReason.CrossSite => "cross_site",
        _ => "other",
    };

    /// <summary>Counts every HTTP 5xx and every gRPC call ending UNKNOWN, INTERNAL, UNAVAILABLE or DATA_LOSS; first in the pipeline.</summary>
    public static void UseSovereignRequestMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var telemetry = app.Services.GetRequiredService<InferenceEngine>().Telemetry;
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch
            {
                // Unhandled: Kestrel answers 500 (or resets a started response).
                var (transport, route) = RouteOf(context);
                telemetry.RecordServerError(transport, route, transport == "grpc" ? "UNKNOWN" : "500");
                throw;
            }

            if (ServerErrorStatus(context) is { } status)
            {
                var (transport, route) = RouteOf(context);
                telemetry.RecordServerError(transport, route, status);
            }
        });
    }

    private static string? ServerErrorStatus(HttpContext context)
    {
        var grpcStatus = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers?["grpc-status"].ToString() is { Length: > 0 } trailer
            ? trailer
            : context.Response.Headers["grpc-status"].ToString();
        if (grpcStatus.Length > 0)
        {
            return grpcStatus switch
            {
                "2" => "UNKNOWN",
                "13" => "INTERNAL",
                "14" => "UNAVAILABLE",
                "15" => "DATA_LOSS",
                _ => null,
            };
        }

        var code = context.Response.StatusCode;
        return code is >= 500 and <= 599 ? code.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static (string Transport, string Route) RouteOf(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc)
        {
            return ("grpc", grpc.Method.FullName);
        }

        return ("http", (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched);
    }
}
