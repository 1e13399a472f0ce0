using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Observability;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Observability;

/// <summary>Wires logs, traces, the Prometheus endpoint and the audit log into the server.</summary>
public static class ObservabilitySetup
{
    /// <summary>JSON console logs, OTLP export (only with an endpoint), the Prometheus bridge and the audit log.</summary>
    public static void AddSovereignObservability(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<PrometheusExporter>();
        builder.Services.AddSingleton<AuditLog>();
        if (options.JsonLogs)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.IncludeScopes = true;
            });
        }

        if (!string.IsNullOrWhiteSpace(options.Otlp.Endpoint))
        {
            if (!Uri.TryCreate(options.Otlp.Endpoint, UriKind.Absolute, out var endpoint))
            {
                throw new InvalidOperationException($"Sovereign:Otlp:Endpoint '{options.Otlp.Endpoint}' is not an absolute URL");
            }

            var protocol = options.Otlp.Protocol switch
            {
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                _ => throw new InvalidOperationException($"Sovereign:Otlp:Protocol must be 'grpc' or 'http/protobuf' (got '{options.Otlp.Protocol}')"),
            };
            Action<OtlpExporterOptions> Exporter(string signalPath) => otlp =>
            {
                otlp.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? SignalEndpoint(endpoint, signalPath) : endpoint;
                otlp.Protocol = protocol;
            };

            builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("sovereign"))
                .WithTracing(tracing => tracing
                    .AddSource(EngineTelemetry.SourceName, "Microsoft.AspNetCore")
                    .AddOtlpExporter(Exporter("v1/traces")))
                .WithMetrics(metrics => metrics
                    .AddMeter(EngineTelemetry.SourceName)
                    .AddOtlpExporter(Exporter("v1/metrics")));
        }
    }

    /// <summary>
    /// The URL one signal is POSTed to over http/protobuf. OpenTelemetry .NET uses an endpoint set in code
    /// verbatim for that protocol (only the OTEL_EXPORTER_OTLP_ENDPOINT variable gets the signal path), so the
    /// configured base URL gets /v1/traces or /v1/metrics appended here, after any path it already has.
    /// </summary>
    internal static Uri SignalEndpoint(Uri baseEndpoint, string signalPath)
    {
        var builder = new UriBuilder(baseEndpoint);
        builder.Path = builder.Path.TrimEnd('/') + "/" + signalPath;
        return builder.Uri;
    }

    /// <summary>Maps GET /metrics (behind the API key unless Sovereign:Metrics:AllowAnonymous) and starts the audit log.</summary>
    public static void UseSovereignObservability(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var engine = app.Services.GetRequiredService<InferenceEngine>();
        // Created now, not at the first scrape: its listener must see every measurement from the start.
        _ = app.Services.GetRequiredService<PrometheusExporter>();
        var audit = app.Services.GetRequiredService<AuditLog>();
        if (audit.IsEnabled)
        {
            engine.CaptureCompletionText |= audit.IncludeText;
            engine.GenerationCompleted += audit.Write;
        }

        app.MapGet("/metrics", ServeMetricsAsync)
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithDescription("Prometheus text exposition (version 0.0.4) of the engine's and the server's metrics.");
    }

    private static async Task ServeMetricsAsync(HttpContext context, PrometheusExporter exporter)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await exporter.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }
}
