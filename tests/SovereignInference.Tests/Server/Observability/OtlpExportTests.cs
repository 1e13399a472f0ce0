using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SovereignInference.Engine.Observability;
using SovereignInference.Server.Observability;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>Sovereign:Otlp:Endpoint over both protocols, against an in-test OTLP receiver on 127.0.0.1.</summary>
public sealed class OtlpExportTests
{
    [Theory]
    [InlineData("http/protobuf", "/v1/traces", "/v1/metrics")]
    [InlineData("grpc", "/opentelemetry.proto.collector.trace.v1.TraceService/Export", "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")]
    public async Task Engine_spans_and_metrics_reach_the_collector_on_each_signal_path(string protocol, string tracesPath, string metricsPath)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc: protocol == "grpc");
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Otlp:Endpoint"] = receiver.Endpoint.ToString(),
            ["Otlp:Protocol"] = protocol,
        });

        var response = await server.Http.PostAsync(
            "v1/completions",
            new StringContent("""{"model":"scripted","prompt":"[/INST]","max_tokens":4,"temperature":0}""", Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.True(server.Services.GetRequiredService<TracerProvider>().ForceFlush(30_000), "traces flushed");
        Assert.True(server.Services.GetRequiredService<MeterProvider>().ForceFlush(30_000), "metrics flushed");

        var scope = Encoding.UTF8.GetBytes(EngineTelemetry.SourceName);
        var posts = receiver.Posts;
        Assert.True(posts.Count >= 2, $"posts: {string.Join(", ", posts.Select(p => p.Path))}");
        Assert.All(posts, p => Assert.Contains(p.Path, new[] { tracesPath, metricsPath }));
        Assert.Contains(posts, p => p.Path == tracesPath && p.Body.AsSpan().IndexOf(scope) >= 0 && p.Body.AsSpan().IndexOf("sovereign.generate"u8) >= 0);
        Assert.Contains(posts, p => p.Path == metricsPath && p.Body.AsSpan().IndexOf(scope) >= 0);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4318", "v1/traces", "http://127.0.0.1:4318/v1/traces")]
    [InlineData("http://127.0.0.1:4318/", "v1/metrics", "http://127.0.0.1:4318/v1/metrics")]
    [InlineData("https://collector.internal/otlp/", "v1/traces", "https://collector.internal/otlp/v1/traces")]
    public void Http_protobuf_signal_paths_go_after_the_configured_base(string endpoint, string signal, string expected) =>
        Assert.Equal(new Uri(expected), ObservabilitySetup.SignalEndpoint(new Uri(endpoint), signal));
}
