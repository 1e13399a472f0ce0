using System.Net;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Contracts.V1;
using SovereignInference.Server.Observability;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>
/// Requests refused before the engine are counted by route and reason, never labelled with what the client sent;
/// the server's own faults (HTTP 5xx, gRPC UNAVAILABLE/INTERNAL/UNKNOWN) are exported as sovereign_server_errors_total.
/// </summary>
public sealed class RefusalMetricsTests
{
    private const string GrpcGenerate = "/sovereign.inference.v1.Inference/Generate";

    [Fact]
    public async Task Unknown_model_ids_sent_to_gRPC_Generate_add_no_series_and_are_counted_as_refusals()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var random = new Random(6);
        var ids = Enumerable.Range(0, 50).Select(_ => "m" + Convert.ToHexString(BitConverter.GetBytes(random.NextInt64())).ToLowerInvariant()).ToList();

        foreach (var id in ids)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy([1, 2], model: id))));
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
        }

        await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"))));
        var text = await server.Http.GetStringAsync("metrics");
        var samples = ParsePrometheus(text);

        Assert.All(ids, id => Assert.DoesNotContain(id, text, StringComparison.Ordinal));
        Assert.All(samples.Where(s => s.Labels.ContainsKey("model")), s => Assert.Equal("scripted", s.Labels["model"]));
        Assert.Equal(50, Sample(samples, "sovereign_requests_refused_total", ("transport", "grpc"), ("route", GrpcGenerate), ("reason", "model_not_found")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_total", ("model", "scripted"), ("status", "ok")));
        server.Logs.AssertNoErrors();
    }

    [Fact]
    public async Task Refusals_at_the_door_are_counted_by_transport_route_and_reason()
    {
        var settings = TwoKeys(("ApiKeys:1:RequestsPerMinute", "1"), ("MaxRequestBodyBytes", "4096"));
        await using var server = await ServerHarness.StartAsync(settings, apiKey: AliceKey);
        using var anonymous = new HttpClient { BaseAddress = server.HttpBase };

        // 401: no key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("v1/completions", Json("""{"model":"scripted","prompt":"hi"}"""))).StatusCode);
        // 404: a model the server does not serve (HTTP completions and /v1/models/{id}).
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PostAsync("v1/completions", Json("""{"model":"nope-1","prompt":"hi","max_tokens":1}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("v1/models/nope-2")).StatusCode);
        // 413: a body over Sovereign:MaxRequestBodyBytes.
        var large = $$"""{"model":"scripted","prompt":"{{new string('x', 8192)}}"}""";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await server.Http.PostAsync("v1/completions", Json(large))).StatusCode);
        // 429: bob's one request per minute.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", BobKey))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await server.Http.SendAsync(Get("v1/models", BobKey))).StatusCode);
        // gRPC UNAUTHENTICATED.
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        var unauthenticated = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(grpc.Generate(GrpcTestClient.Greedy([1, 2]))));
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);

        var samples = ParsePrometheus(await server.Http.GetStringAsync("metrics"));

        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "http"), ("route", "/v1/completions"), ("reason", "unauthenticated")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "http"), ("route", "/v1/completions"), ("reason", "model_not_found")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "http"), ("route", "/v1/models/{id}"), ("reason", "model_not_found")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "http"), ("route", "/v1/completions"), ("reason", "too_large")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "http"), ("route", "/v1/models"), ("reason", "rate_limited")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_refused_total", ("transport", "grpc"), ("route", GrpcGenerate), ("reason", "unauthenticated")));
        Assert.DoesNotContain(samples, s => s.Labels.Values.Any(v => v.StartsWith("nope", StringComparison.Ordinal)));
        Assert.DoesNotContain(samples, s => s.Name == "sovereign_requests_total");
        server.Logs.AssertNoErrors();
    }

    [Fact]
    public async Task Server_errors_are_exported_by_transport_route_and_status()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        server.Engine.BeginDrain();

        // While draining: HTTP 503 and gRPC UNAVAILABLE are the server's answers, not the client's fault.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("v1/models")).StatusCode);
        var unavailable = await Assert.ThrowsAsync<RpcException>(async () => await grpc.ListModelsAsync(new ListModelsRequest()));
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);

        // /metrics answers 503 while draining too, so read the exporter's registry directly.
        using var scrape = new MemoryStream();
        await server.Services.GetRequiredService<PrometheusExporter>().Registry.CollectAndExportAsTextAsync(scrape);
        var samples = ParsePrometheus(Encoding.UTF8.GetString(scrape.ToArray()));

        Assert.Equal(1, Sample(samples, "sovereign_server_errors_total", ("transport", "http"), ("route", "/v1/models"), ("status", "503")));
        Assert.Equal(1, Sample(samples, "sovereign_server_errors_total", ("transport", "grpc"), ("route", "/sovereign.inference.v1.Inference/ListModels"), ("status", "UNAVAILABLE")));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
