using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Security;

/// <summary>
/// The gRPC door, registered for every service the server maps (GrpcServiceOptions.Interceptors), except
/// grpc.health.v1.Health which, like /health/* on HTTP, is open and answers during a drain:
/// UNAVAILABLE while draining, UNAUTHENTICATED without a valid <c>authorization: Bearer &lt;key&gt;</c>
/// metadata entry, RESOURCE_EXHAUSTED (with a retry-after trailer, in seconds) past the key's limits.
/// </summary>
internal sealed class ApiKeyInterceptor(ApiKeyStore keys, KeyRateLimiter limiter, InferenceEngine engine) : Interceptor
{
    /// <summary>Methods that need a key marked admin when keys are configured.</summary>
    internal static readonly HashSet<string> AdminMethods = new(StringComparer.Ordinal)
    {
        "/sovereign.inference.v1.Inference/LoadModel",
        "/sovereign.inference.v1.Inference/UnloadModel",
        "/sovereign.inference.v1.Inference/WatchModels",
    };

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var admitted = Admit(context);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var admitted = Admit(context);
        await continuation(request, responseStream, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var admitted = Admit(context);
        return await continuation(requestStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var admitted = Admit(context);
        await continuation(requestStream, responseStream, context);
    }

    private RateLimitDecision? Admit(ServerCallContext context)
    {
        // Like /health/* on HTTP: probes need no key and keep answering (NOT_SERVING) while draining.
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
        {
            return null;
        }

        if (engine.IsDraining)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The server is shutting down and accepts no new requests"));
        }

        if (keys.IsEmpty)
        {
            return null;
        }

        var presented = ApiKeyMiddleware.BearerToken(context.RequestHeaders.GetValue("authorization") ?? "");
        var key = presented is null ? null : keys.Authenticate(presented);
        if (key is null)
        {
            CountRefusal(context, RefusalReason.Unauthenticated);
            throw new RpcException(new Status(
                StatusCode.Unauthenticated,
                presented is null ? "Missing API key: send metadata 'authorization: Bearer <key>'" : "Incorrect API key provided."));
        }

        if (!key.Admin && AdminMethods.Contains(context.Method))
        {
            CountRefusal(context, RefusalReason.Unauthenticated);
            throw new RpcException(new Status(StatusCode.PermissionDenied, "This method needs an API key marked admin (Sovereign:ApiKeys:N:Admin=true)"));
        }

        if (context.GetHttpContext() is { } http)
        {
            http.SetApiKeyName(key.Name);
        }

        var decision = limiter.Admit(key.Name);
        if (!decision.IsAdmitted)
        {
            CountRefusal(context, RefusalReason.RateLimited);
            throw new RpcException(
                new Status(StatusCode.ResourceExhausted, decision.Message!),
                new Metadata { { "retry-after", decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture) } });
        }

        return decision;
    }

    private static void CountRefusal(ServerCallContext context, RefusalReason reason)
    {
        if (context.GetHttpContext() is { } http)
        {
            RequestMetrics.CountRefusal(http, reason);
        }
    }
}
