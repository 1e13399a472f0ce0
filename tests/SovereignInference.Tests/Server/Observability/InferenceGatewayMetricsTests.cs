using System.Globalization;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>
/// The gauges the Kubernetes inference gateway's endpoint picker scrapes (docker/kubernetes/inference-gateway/),
/// per model, on the real server: queued and running requests rise while requests run and fall back after,
/// KV-cache utilization stays within 0–1 and rises with the running sequences, cache_config_info describes the cache.
/// </summary>
public sealed class InferenceGatewayMetricsTests
{
    [Fact]
    public async Task Queued_running_and_kv_gauges_move_with_the_load_and_cache_config_info_names_the_cells()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = "1", ["CtxSize"] = "4096" });
        var scheduler = server.Engine.GetReadyModel("scripted").Scheduler!;

        var idle = await ScrapeAsync(server);
        Assert.Equal(0, Sample(idle, "sovereign_num_requests_waiting", ("model", "scripted")));
        Assert.Equal(0, Sample(idle, "sovereign_num_requests_running", ("model", "scripted")));
        Assert.Equal(1, Sample(idle, "sovereign_cache_config_info", ("model", "scripted"), ("block_size", "1"), ("num_gpu_blocks", scheduler.KvCellsCapacity.ToString(CultureInfo.InvariantCulture))));
        var idleKv = Sample(idle, "sovereign_kv_cache_usage_ratio", ("model", "scripted"));
        Assert.InRange(idleKv, 0.0, 1.0);

        // One slot: the first request runs, the other two wait. Each would stream a 4000-token loop over HTTP; the
        // clients go away once the gauges were seen.
        using var stop = new CancellationTokenSource();
        var prompt = string.Join(',', ScriptedModels.LoopPrompt(32));
        var load = Enumerable.Range(0, 3).Select(_ => StreamAsync(server, $$"""{"model":"scripted","prompt":[{{prompt}}],"max_tokens":4000,"temperature":0,"stream":true}""", stop.Token)).ToList();

        // A sequence just admitted holds no KV cells until its first step: wait for one that has been fed.
        var busy = await PollAsync(server, s =>
            Sample(s, "sovereign_num_requests_running", ("model", "scripted")) >= 1
            && Sample(s, "sovereign_num_requests_waiting", ("model", "scripted")) >= 1
            && Sample(s, "sovereign_kv_cache_usage_ratio", ("model", "scripted")) > 0);
        Assert.InRange(Sample(busy, "sovereign_kv_cache_usage_ratio", ("model", "scripted")), double.Epsilon, 1.0);
        Assert.Equal(1, Sample(busy, "sovereign_num_requests_running", ("model", "scripted")));
        Assert.InRange(Sample(busy, "sovereign_num_requests_waiting", ("model", "scripted")), 1, 2);

        // Clients that hang up free their slot and leave the queue.
        await stop.CancelAsync();
        await Task.WhenAll(load);
        var after = await PollAsync(server, s =>
            Sample(s, "sovereign_num_requests_running", ("model", "scripted")) == 0
            && Sample(s, "sovereign_num_requests_waiting", ("model", "scripted")) == 0);
        Assert.InRange(Sample(after, "sovereign_kv_cache_usage_ratio", ("model", "scripted")), 0.0, 1.0);
    }

    [Fact]
    public async Task Every_model_has_its_own_series_and_only_the_servers_models_are_labels()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.TinyAndScripted());

        var samples = await ScrapeAsync(server);

        foreach (var name in new[] { "sovereign_num_requests_waiting", "sovereign_num_requests_running", "sovereign_kv_cache_usage_ratio", "sovereign_cache_config_info" })
        {
            var models = samples.Where(s => s.Name == name).Select(s => s.Labels["model"]).Order().ToArray();
            Assert.Equal(["scripted", "tiny"], models);
        }
    }

    private static async Task<List<(string Name, Dictionary<string, string> Labels, double Value)>> ScrapeAsync(ServerHarness server) =>
        ParsePrometheus(await server.Http.GetStringAsync("metrics"));

    private static async Task<List<(string Name, Dictionary<string, string> Labels, double Value)>> PollAsync(
        ServerHarness server, Func<List<(string Name, Dictionary<string, string> Labels, double Value)>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var samples = await ScrapeAsync(server);
            if (condition(samples))
            {
                return samples;
            }

            Assert.True(DateTime.UtcNow < deadline, "the gauges did not reach the expected values in 30 s: " + string.Join(", ", samples
                .Where(s => s.Name is "sovereign_num_requests_waiting" or "sovereign_num_requests_running" or "sovereign_kv_cache_usage_ratio")
                .Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}")));
            await Task.Delay(20);
        }
    }

    /// <summary>Reads a streamed completion until it ends or <paramref name="stop"/> aborts the connection.</summary>
    private static async Task StreamAsync(ServerHarness server, string body, CancellationToken stop)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(stop));
            await using var stream = await response.Content.ReadAsStreamAsync(stop);
            await stream.CopyToAsync(Stream.Null, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
