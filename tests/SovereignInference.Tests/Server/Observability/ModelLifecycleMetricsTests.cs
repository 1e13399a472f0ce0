using System.Net;
using System.Text;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>
/// The per-model lifecycle metrics of GET /metrics, scraped after each step of one story on real worker processes:
/// load, request, unload, load again, eviction by the memory budget, a native abort in the worker, and the restart.
/// </summary>
[Collection("workers")]
public sealed class ModelLifecycleMetricsTests : IDisposable
{
    private static readonly string[] States = ["unloaded", "loading", "loaded", "failed"];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        File.Copy(ScriptedModels.Engine.Path, _dir.File("alpha.gguf"), overwrite: true);
        File.Copy(ScriptedModels.Engine.Path, _dir.File("beta.gguf"), overwrite: true);
        var settings = new Dictionary<string, string?>
        {
            ["ModelsDir"] = _dir.Path,
            ["Model:0"] = null,
            ["Model:99"] = null,
            ["Isolation"] = "process",
            ["LoadOnDemand"] = "true",
            ["GpuLayers"] = "0",
            ["Parallel"] = "2",
            ["Threads"] = "1",
            ["RescanSeconds"] = "0.2",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<HttpStatusCode> CompleteAsync(ServerHarness server, string model)
    {
        using var content = new StringContent($$"""{"model":"{{model}}","prompt":[1,2,3],"max_tokens":3,"ignore_eos":true,"temperature":0}""", Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync("v1/completions", content);
        return response.StatusCode;
    }

    private sealed record Expected(long Loads, long Unloads, long Evictions, long Crashes, string State, bool Loaded);

    /// <summary>Scrapes /metrics and checks every lifecycle series of both models and the RAM account.</summary>
    private static async Task AssertMetricsAsync(ServerHarness server, string step, long plan, long budget, Expected alpha, Expected beta)
    {
        var text = await server.Http.GetStringAsync("metrics");
        var samples = ParsePrometheus(text);
        foreach (var (model, expected) in new[] { ("alpha", alpha), ("beta", beta) })
        {
            var where = $"{step}: {model}";
            Assert.True(expected.Loads == Sample(samples, "sovereign_model_loads", ("model", model)), $"{where} loads");
            Assert.True(expected.Unloads == Sample(samples, "sovereign_model_unloads", ("model", model)), $"{where} unloads");
            Assert.True(expected.Evictions == Sample(samples, "sovereign_model_evictions", ("model", model)), $"{where} evictions");
            Assert.True(expected.Crashes == Sample(samples, "sovereign_model_crashes", ("model", model)), $"{where} crashes");

            // Exactly one state is 1; a state the model left reads 0, not the 1 it had (no stale series).
            var states = samples.Where(s => s.Name == "sovereign_model_state" && s.Labels["model"] == model).ToList();
            Assert.True(states.Count(s => s.Value == 1) == 1 && states.Single(s => s.Value == 1).Labels["state"] == expected.State, $"{where} state: {string.Join(", ", states.Select(s => $"{s.Labels["state"]}={s.Value}"))}, expected {expected.State}");
            Assert.All(states, s => Assert.Contains(s.Labels["state"], States));

            // One load-time observation per successful load; none before the first.
            var count = samples.Where(s => s.Name == "sovereign_model_load_duration_seconds_count" && s.Labels["model"] == model).Sum(s => s.Value);
            Assert.True(expected.Loads == count, $"{where} load-time histogram count {count}, expected {expected.Loads}");
            if (expected.Loads > 0)
            {
                Assert.True(Sample(samples, "sovereign_model_load_duration_seconds_sum", ("model", model)) > 0, $"{where} load-time sum");
                Assert.True(Sample(samples, "sovereign_model_load_time_seconds", ("model", model)) > 0, $"{where} last load time");
                Assert.Contains("# TYPE sovereign_model_load_duration_seconds histogram", text, StringComparison.Ordinal);
            }

            Assert.True((expected.Loaded ? plan : 0) == Sample(samples, "sovereign_model_memory", ("model", model), ("device", "ram")), $"{where} memory");
        }

        var inUse = (alpha.Loaded ? plan : 0) + (beta.Loaded ? plan : 0);
        Assert.True(budget == Sample(samples, "sovereign_memory_budget", ("device", "ram")), $"{step}: budget");
        Assert.True(inUse == Sample(samples, "sovereign_memory_in_use", ("device", "ram")), $"{step}: in use {Sample(samples, "sovereign_memory_in_use", ("device", "ram"))}, expected {inUse}");
    }

    [Fact]
    public async Task Metrics_follow_each_model_through_load_unload_eviction_and_a_crash()
    {
        long plan;
        await using (var probe = await ServerHarness.StartAsync(Settings()))
        {
            plan = probe.Engine.Manager.Find("alpha")!.Plan!.TotalBytes;
        }

        // Room for one model in RAM, not two.
        var budget = plan * 3 / 2;
        await using var server = await ServerHarness.StartAsync(Settings(("MemoryBudget", budget.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(plan, server.Engine.Manager.Find("beta")!.Plan!.TotalBytes);
        var manager = server.Engine.Manager;

        await AssertMetricsAsync(server, "start", plan, budget, new(0, 0, 0, 0, "unloaded", false), new(0, 0, 0, 0, "unloaded", false));

        Assert.Equal(HttpStatusCode.OK, await CompleteAsync(server, "alpha"));
        await AssertMetricsAsync(server, "first request", plan, budget, new(1, 0, 0, 0, "loaded", true), new(0, 0, 0, 0, "unloaded", false));

        using (var unload = await server.Http.PostAsync("models/unload", new StringContent("""{"model":"alpha"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        Assert.Equal(ModelState.Pending, manager.Find("alpha")!.State);
        await AssertMetricsAsync(server, "unload", plan, budget, new(1, 1, 0, 0, "unloaded", false), new(0, 0, 0, 0, "unloaded", false));

        Assert.Equal(HttpStatusCode.OK, await CompleteAsync(server, "alpha"));
        await AssertMetricsAsync(server, "load again", plan, budget, new(2, 1, 0, 0, "loaded", true), new(0, 0, 0, 0, "unloaded", false));

        // beta does not fit next to alpha: alpha, idle, is evicted (an eviction, not an unload).
        Assert.Equal(HttpStatusCode.OK, await CompleteAsync(server, "beta"));
        await AssertMetricsAsync(server, "eviction", plan, budget, new(2, 1, 1, 0, "unloaded", false), new(1, 0, 0, 0, "loaded", true));

        // alpha's worker aborts at its first decode: beta is evicted for it, alpha loads (a load), then crashes.
        Environment.SetEnvironmentVariable(WorkerHost.TestAbortVariable, "alpha=decode");
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await CompleteAsync(server, "alpha"));
            await EngineHarness.WaitUntilAsync(() => manager.Find("alpha")!.State == ModelState.Failed && manager.InUseOn(MemoryBudget.Ram) == 0, TimeSpan.FromSeconds(20), "alpha failed and its memory returned");
        }
        finally
        {
            Environment.SetEnvironmentVariable(WorkerHost.TestAbortVariable, null);
        }

        await AssertMetricsAsync(server, "crash", plan, budget, new(3, 1, 1, 1, "failed", false), new(1, 0, 1, 0, "unloaded", false));

        // The next request restarts it.
        Assert.Equal(HttpStatusCode.OK, await CompleteAsync(server, "alpha"));
        await AssertMetricsAsync(server, "restart", plan, budget, new(4, 1, 1, 1, "loaded", true), new(1, 0, 1, 0, "unloaded", false));

        // A model whose file goes away leaves the catalog and /metrics: no series keeps its last value.
        File.Delete(_dir.File("beta.gguf"));
        await EngineHarness.WaitUntilAsync(() => manager.Find("beta") is null, TimeSpan.FromSeconds(20), "beta removed");
        var after = ParsePrometheus(await server.Http.GetStringAsync("metrics"));
        Assert.DoesNotContain(after, s => s.Labels.TryGetValue("model", out var m) && m == "beta" && s.Name.StartsWith("sovereign_model_", StringComparison.Ordinal) && !s.Name.StartsWith("sovereign_model_load_duration", StringComparison.Ordinal));
        Assert.Equal(4, Sample(after, "sovereign_model_loads", ("model", "alpha")));
    }
}
