using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>GET /metrics after a known workload: exact request and token counts, Prometheus names.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_show_the_exact_requests_and_tokens_of_a_known_workload()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(), apiKey: AliceKey);

        // 3 x "[/INST]" → " Hello world!" EOS: 2 prompt tokens (BOS, [/INST]) and 3 generated each.
        var hellos = new List<GenerationUpdate>();
        for (var i = 0; i < 3; i++)
        {
            hellos.Add((await RunAsync(server.Engine.GenerateAsync(Hello("alice"))))[^1]);
        }

        // 1 x loop prompt of 10 tokens, 5 generated, finish length.
        var loop = (await RunAsync(server.Engine.GenerateAsync(Loop("bob", maxTokens: 5, promptLength: 10))))[^1];

        // 1 x unknown model: refused before any token.
        await Assert.ThrowsAsync<EngineException>(() => RunAsync(server.Engine.GenerateAsync(Hello("alice", model: "nope"))));

        var text = await server.Http.GetStringAsync("metrics");
        var samples = ParsePrometheus(text);

        Assert.All(hellos, h => Assert.Equal((2, 3), (h.Usage!.PromptTokens, h.Usage.CompletionTokens)));
        Assert.Equal((10, 5), (loop.Usage!.PromptTokens, loop.Usage.CompletionTokens));
        Assert.Equal(3, Sample(samples, "sovereign_requests_total", ("model", "scripted"), ("status", "ok"), ("finish_reason", "stop")));
        Assert.Equal(1, Sample(samples, "sovereign_requests_total", ("model", "scripted"), ("status", "ok"), ("finish_reason", "length")));
        // The unknown model is no label: label values come from the server's own model list.
        Assert.DoesNotContain(samples, s => s.Labels.ContainsValue("nope"));
        Assert.Equal((3 * 2) + 10, Sample(samples, "sovereign_prompt_tokens_total", ("model", "scripted")));
        Assert.Equal((3 * 3) + 5, Sample(samples, "sovereign_generation_tokens_total", ("model", "scripted")));
        Assert.Equal(hellos.Sum(h => h.Usage!.CachedPromptTokens) + loop.Usage.CachedPromptTokens, Sample(samples, "sovereign_prefix_cache_hit_tokens_total", ("model", "scripted")));
        Assert.Equal(4, Sample(samples, "sovereign_e2e_request_latency_seconds_count", ("model", "scripted")));
        Assert.Equal(4, Sample(samples, "sovereign_time_to_first_token_seconds_count", ("model", "scripted")));
        Assert.Equal(4, Sample(samples, "sovereign_request_queue_time_seconds_count", ("model", "scripted")));
        // Inter-token gaps: 2 per hello (3 tokens) and 4 for the loop (5 tokens).
        Assert.Equal((3 * 2) + 4, Sample(samples, "sovereign_inter_token_latency_seconds_count", ("model", "scripted")));
        Assert.Equal(0, Sample(samples, "sovereign_num_requests_waiting", ("model", "scripted")));
        Assert.Equal(0, Sample(samples, "sovereign_num_requests_running", ("model", "scripted")));
        Assert.InRange(Sample(samples, "sovereign_kv_cache_usage_ratio", ("model", "scripted")), 0.0, 1.0);
        // Every decode step is one batch: 4 sequences were decoded alone, one step per generated token.
        Assert.True(Sample(samples, "sovereign_batch_size_count", ("model", "scripted")) >= (3 * 3) + 5);
        Assert.Contains("# TYPE sovereign_requests_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sovereign_time_to_first_token_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("sovereign_time_to_first_token_seconds_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_servers_in_one_process_keep_their_own_numbers()
    {
        await using var first = await ServerHarness.StartAsync();
        await RunAsync(first.Engine.GenerateAsync(Hello(null)));
        await using var second = await ServerHarness.StartAsync();

        var samples = ParsePrometheus(await second.Http.GetStringAsync("metrics"));

        Assert.DoesNotContain(samples, s => s.Name == "sovereign_requests_total");
        Assert.Equal(1, Sample(ParsePrometheus(await first.Http.GetStringAsync("metrics")), "sovereign_requests_total", ("model", "scripted"), ("status", "ok")));
    }
}
