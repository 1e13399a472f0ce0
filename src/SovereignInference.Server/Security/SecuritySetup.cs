using System.Net;
using Grpc.AspNetCore.Server;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Hosting;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Security;

/// <summary>Wires authentication, per-key limits, request size limits and CORS into the server.</summary>
public static partial class SecuritySetup
{
    /// <summary>
    /// Loads the keys (failing at start on bad entries), refuses non-loopback listeners when no key is
    /// configured, gives each key's priority to the engine's fair share, and sets Kestrel and gRPC limits.
    /// </summary>
    public static void AddSovereignSecurity(this WebApplicationBuilder builder, EngineOptions engineOptions, ServerOptions serverOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(engineOptions);
        ArgumentNullException.ThrowIfNull(serverOptions);
        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();
        var store = ApiKeyStore.Load(options);
        if (store.IsEmpty)
        {
            foreach (var (name, url) in new[] { ("HttpUrl", serverOptions.HttpUrl), ("GrpcUrl", serverOptions.GrpcUrl) })
            {
                if (!IsLoopback(url))
                {
                    throw new ConfigurationException(
                        $"Refusing to listen on {url} (Sovereign:{name}) without authentication: no API key is configured. " +
                        "Configure keys (Sovereign:ApiKeys:0:Name and :Key, or Sovereign:ApiKeyFile with 'name:sha256hex' lines) or listen on 127.0.0.1.");
                }
            }
        }

        if (options.MaxRequestBodyBytes < 1 || options.MaxRequestHeaderBytes < 1024 || options.GrpcMaxReceiveBytes < 1)
        {
            throw new ConfigurationException("Sovereign:MaxRequestBodyBytes and GrpcMaxReceiveBytes must be positive, MaxRequestHeaderBytes at least 1024");
        }

        foreach (var key in store.Keys)
        {
            engineOptions.UserPriorities[key.Name] = key.Priority;
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<KeyRateLimiter>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = options.MaxRequestHeaderBytes;
        });

        // Harmless while no gRPC service is mapped; applies to every service once AddGrpc()/MapGrpcService run.
        builder.Services.Configure<GrpcServiceOptions>(grpc =>
        {
            grpc.Interceptors.Add<ApiKeyInterceptor>();
            grpc.MaxReceiveMessageSize = options.GrpcMaxReceiveBytes;
        });

        if (options.Cors.Origins.Count > 0)
        {
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. options.Cors.Origins])
                .AllowAnyHeader()
                .AllowAnyMethod()));
        }
    }

    /// <summary>Adds the Host/Origin guard, CORS (when configured) and the key check in front of every route but /health/*.</summary>
    public static void UseSovereignSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<SecurityOptions>();
        var store = app.Services.GetRequiredService<ApiKeyStore>();
        var limiter = app.Services.GetRequiredService<KeyRateLimiter>();
        var engine = app.Services.GetRequiredService<InferenceEngine>();
        engine.GenerationCompleted += record =>
        {
            if (record.Request.User is { } user)
            {
                limiter.ChargeTokens(user, record.TotalTokens);
            }
        };
        engine.EmbeddingCompleted += (request, tokens) =>
        {
            if (request.User is { } user)
            {
                limiter.ChargeTokens(user, tokens);
            }
        };

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecuritySetup).FullName!);
        if (store.IsEmpty)
        {
            LogAuthOff(logger);
        }
        else
        {
            LogAuthOn(logger, store.Keys.Count);
        }

        app.UseMiddleware<RequestOriginGuard>();
        if (options.Cors.Origins.Count > 0)
        {
            app.UseCors();
        }

        app.UseMiddleware<ApiKeyMiddleware>();
    }

    /// <summary>Whether a listen URL binds only the loopback interface.</summary>
    public static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    [LoggerMessage(EventId = ServerEventIds.AuthOff, Level = LogLevel.Warning, Message = "Authentication is OFF: no API key is configured (Sovereign:ApiKeys / Sovereign:ApiKeyFile); listening on loopback only")]
    private static partial void LogAuthOff(ILogger logger);

    [LoggerMessage(EventId = ServerEventIds.AuthOn, Level = LogLevel.Information, Message = "Authentication on: {Count} API keys")]
    private static partial void LogAuthOn(ILogger logger, int count);
}
