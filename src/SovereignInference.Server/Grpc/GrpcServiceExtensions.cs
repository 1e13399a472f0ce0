using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// Wires the gRPC API into the server in two calls: <see cref="AddSovereignGrpc"/> (services, the HTTP/2
/// listener on Sovereign:GrpcUrl) and <see cref="MapSovereignGrpc"/> (Inference, Health, reflection, and the
/// rule that gRPC answers only on its own listener and the HTTP API only on the others).
/// </summary>
public static class GrpcServiceExtensions
{
    public static WebApplicationBuilder AddSovereignGrpc(this WebApplicationBuilder builder, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var listener = new GrpcListener();
        builder.Services.AddSingleton(listener);
        if (string.IsNullOrWhiteSpace(options.GrpcUrl))
        {
            return builder;
        }

        listener.Enabled = true;
        builder.Services.AddGrpc(grpc =>
        {
            // The receive limit (Sovereign:GrpcMaxReceiveBytes) is set with the other request limits in Security/.
            grpc.Interceptors.Add<EngineErrorInterceptor>();

            // No catch-all "{service}/{method}" endpoints: on the HTTP port they shadowed two-segment routes
            // (GET /v1/responses answered 404, not 405); unknown methods on the gRPC listener get UNIMPLEMENTED below.
            grpc.IgnoreUnknownServices = true;
        });
        builder.Services.AddGrpcReflection();
        builder.WebHost.ConfigureKestrel(kestrel =>
            ServerHost.Listen(kestrel, options.GrpcUrl, HttpProtocols.Http2, listen => listener.Attach(listen, options.GrpcUrl)));
        return builder;
    }

    public static WebApplication MapSovereignGrpc(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<GrpcListener>().Enabled)
        {
            return app;
        }

        app.Use(static (context, next) =>
        {
            var isGrpcEndpoint = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;
            var onGrpcListener = GrpcListener.IsGrpcConnection(context);
            if (isGrpcEndpoint != onGrpcListener)
            {
                if (onGrpcListener && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                if (onGrpcListener)
                {
                    // A trailers-only gRPC answer, as grpc-dotnet gives an unknown service or method (only the answer's
                    // shape follows the content type; which endpoint runs never does).
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "application/grpc";
                    context.Response.Headers["grpc-status"] = "12";
                    context.Response.Headers["grpc-message"] = $"Unknown service or method {context.Request.Path}";
                    return Task.CompletedTask;
                }

                return SovereignInference.Server.Security.SecurityResponses.Write(
                    context,
                    StatusCodes.Status404NotFound,
                    $"No HTTP route {context.Request.Path}: gRPC methods are served on the gRPC listener (Sovereign:GrpcUrl)",
                    "invalid_request_error",
                    "not_found");
            }

            return next(context);
        });
        app.UseMiddleware<GrpcMessageGuard>();
        app.MapGrpcService<InferenceService>();
        app.MapGrpcService<EngineHealthService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
