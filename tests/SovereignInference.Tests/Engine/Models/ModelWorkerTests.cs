using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Models;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>
/// The model lifecycle on real worker processes (`sovereign worker`, started by the server inside the test host as
/// `dotnet sovereign.dll worker`) over generated models: load on demand, keep_alive 0, eviction within the budget,
/// budget refusal, crash containment (kill -9, a native abort), hot add/remove, and no orphans.
/// </summary>
[Collection("workers")]
public sealed class ModelWorkerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> TwoModels(params (string Key, string? Value)[] extra)
    {
        File.Copy(ScriptedModels.Engine.Path, _dir.File("alpha.gguf"), overwrite: true);
        File.Copy(ScriptedModels.Engine.Path, _dir.File("beta.gguf"), overwrite: true);
        var settings = new Dictionary<string, string?>
        {
            ["ModelsDir"] = _dir.Path,
            ["Model:0"] = null,
            ["Isolation"] = "process",
            ["LoadOnDemand"] = "true",
            ["Parallel"] = "2",
            ["Threads"] = "1",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<ServerHarness> StartAsync(Dictionary<string, string?> settings)
    {
        // The harness's default model is the scripted one under "Model:0"; these tests serve the folder instead.
        var server = await ServerHarness.StartAsync(settings.Append(new("Model:99", null)).ToDictionary(p => p.Key, p => p.Value));
        return server;
    }

    private static async Task<JsonElement> ModelAsync(ServerHarness server, string id)
    {
        using var response = await server.Http.GetAsync($"v1/models/{id}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> CompleteAsync(ServerHarness server, string model, int maxTokens = 4, string? keepAlive = null, bool stream = false)
    {
        var body = $$"""{"model":"{{model}}","prompt":[1,2,3],"max_tokens":{{maxTokens}},"ignore_eos":true,"temperature":0,"stream":{{(stream ? "true" : "false")}}{{(keepAlive is null ? "" : $",\"keep_alive\":{keepAlive}")}}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        return server.Http.SendAsync(request, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead);
    }

    [Fact]
    public async Task A_model_loads_on_its_first_request_in_its_own_worker_and_keep_alive_0_ends_the_worker()
    {
        await using var server = await StartAsync(TwoModels());
        var before = await ModelAsync(server, "alpha");
        Assert.Equal("unloaded", before.GetProperty("status").GetString());
        Assert.True(before.GetProperty("memory_estimate_bytes").GetInt64() > 0);
        using (var ready = await server.Http.GetAsync("health/ready"))
        {
            // Ready once the catalog is up: an unloaded model loads on its first request.
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("\"unloaded\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var first = await CompleteAsync(server, "alpha"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var loaded = await ModelAsync(server, "alpha");
        Assert.Equal("loaded", loaded.GetProperty("status").GetString());
        var pid = loaded.GetProperty("pid").GetInt32();
        Assert.NotEqual(Environment.ProcessId, pid);
        using var worker = Process.GetProcessById(pid);
        if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            // The worker's llama.cpp waits at OpenMP barriers briefly (WorkerLaunch.ApplyNativeDefaults).
            Assert.Contains("GOMP_SPINCOUNT=" + WorkerLaunch.DefaultGompSpinCount, File.ReadAllText($"/proc/{pid}/environ").Split('\0'));
        }

        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is null)
        {
            // Its weights are read into memory that glibc asks huge pages for (WorkerLaunch.HugePageTunable).
            Assert.Contains("GLIBC_TUNABLES=" + WorkerLaunch.HugePageTunable, File.ReadAllText($"/proc/{pid}/environ").Split('\0'));
        }

        Assert.Equal("unloaded", (await ModelAsync(server, "beta")).GetProperty("status").GetString());

        using (var last = await CompleteAsync(server, "alpha", keepAlive: "0"))
        {
            Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        }

        await EngineHarness.WaitUntilAsync(() => server.Engine.Manager.Find("alpha")!.State == ModelState.Pending, TimeSpan.FromSeconds(20), "alpha unloaded");
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(20)), "the worker process ended");
        Assert.Equal(1, server.Engine.Manager.Find("alpha")!.Counters.Unloads);
        Assert.False((await ModelAsync(server, "alpha")).TryGetProperty("pid", out _), "no pid while unloaded");
    }

    [Fact]
    public async Task A_killed_worker_fails_only_its_own_stream_and_restarts_on_the_next_request()
    {
        // A long stream (8,000 tokens) so that the kill lands in its middle even on a fast machine.
        await using var server = await StartAsync(TwoModels(("CtxSize", "8192")));
        using var alpha = await CompleteAsync(server, "alpha", maxTokens: 8000, stream: true);
        using var beta = await CompleteAsync(server, "beta", maxTokens: 60, stream: true);
        Assert.Equal(HttpStatusCode.OK, alpha.StatusCode);
        Assert.Equal(HttpStatusCode.OK, beta.StatusCode);
        using var alphaReader = new StreamReader(await alpha.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await alphaReader.ReadLineAsync());
        var pid = server.Engine.Manager.Find("alpha")!.Pid!.Value;
        Process.GetProcessById(pid).Kill();

        var alphaRest = await alphaReader.ReadToEndAsync();
        var betaBody = await beta.Content.ReadAsStringAsync();
        Assert.True(alphaRest.Contains("model worker exited: signal 9", StringComparison.Ordinal), alphaRest[^Math.Min(alphaRest.Length, 2000)..]);
        Assert.Contains("\"finish_reason\":\"length\"", betaBody, StringComparison.Ordinal);
        Assert.DoesNotContain("error", betaBody, StringComparison.Ordinal);
        var failed = await ModelAsync(server, "alpha");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("signal 9", failed.GetProperty("status_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("loaded", (await ModelAsync(server, "beta")).GetProperty("status").GetString());

        using var again = await CompleteAsync(server, "alpha");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.NotEqual(pid, server.Engine.Manager.Find("alpha")!.Pid);
        Assert.Equal(1, server.Engine.Manager.Find("alpha")!.Counters.Crashes);
    }

    [Fact]
    public async Task A_native_abort_at_first_decode_or_at_load_is_a_503_naming_the_signal_and_the_server_lives_on()
    {
        Environment.SetEnvironmentVariable(WorkerHost.TestAbortVariable, "alpha=decode,beta=load");
        try
        {
            await using var server = await StartAsync(TwoModels());
            using var atDecode = await CompleteAsync(server, "alpha");
            var decodeBody = await atDecode.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, atDecode.StatusCode);
            Assert.Contains("model worker exited: signal 6", decodeBody, StringComparison.Ordinal);

            using var atLoad = await CompleteAsync(server, "beta");
            var loadBody = await atLoad.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, atLoad.StatusCode);
            Assert.Contains("signal 6", loadBody, StringComparison.Ordinal);
            Assert.Equal("failed", (await ModelAsync(server, "beta")).GetProperty("status").GetString());

            // Two more failed loads within a minute: the third leaves the model failed without trying again.
            for (var i = 0; i < 2; i++)
            {
                using var retry = await CompleteAsync(server, "beta");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, retry.StatusCode);
            }

            using var refused = await CompleteAsync(server, "beta");
            Assert.Contains("3 times within a minute", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(3, server.Engine.Manager.Find("beta")!.Counters.Crashes);
            using var live = await server.Http.GetAsync("health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable(WorkerHost.TestAbortVariable, null);
        }
    }

    [Fact]
    public async Task Loading_past_the_budget_evicts_the_least_recently_used_idle_model_and_a_pinned_one_is_never_evicted()
    {
        long plan;
        await using (var probe = await StartAsync(TwoModels()))
        {
            plan = probe.Engine.Manager.Find("alpha")!.Plan!.TotalBytes;
        }

        var budget = (plan * 3 / 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using (var server = await StartAsync(TwoModels(("MemoryBudget", budget))))
        {
            using (var a = await CompleteAsync(server, "alpha"))
            {
                Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            }

            using (var b = await CompleteAsync(server, "beta"))
            {
                Assert.Equal(HttpStatusCode.OK, b.StatusCode);
            }

            Assert.Equal("unloaded", (await ModelAsync(server, "alpha")).GetProperty("status").GetString());
            Assert.Equal("loaded", (await ModelAsync(server, "beta")).GetProperty("status").GetString());
            Assert.Equal(1, server.Engine.Manager.Find("alpha")!.Counters.Evictions);
        }

        await using (var pinned = await StartAsync(TwoModels(("MemoryBudget", budget), ("Models:alpha:Pinned", "true"))))
        {
            Assert.Equal("loaded", (await ModelAsync(pinned, "alpha")).GetProperty("status").GetString());
            using var refused = await CompleteAsync(pinned, "beta");
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("needs", body, StringComparison.Ordinal);
            Assert.Contains("of the memory budget", body, StringComparison.Ordinal);
            Assert.Contains("alpha", body, StringComparison.Ordinal);
            Assert.Equal("unloaded", (await ModelAsync(pinned, "beta")).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Files_added_to_or_removed_from_the_folder_appear_and_disappear_without_a_restart()
    {
        await using var server = await StartAsync(TwoModels(("RescanSeconds", "0.2"), ("Isolation", "inprocess")));
        File.Copy(ScriptedModels.Engine.Path, _dir.File("gamma.gguf"));
        await EngineHarness.WaitUntilAsync(() => server.Engine.Manager.Find("gamma") is not null, TimeSpan.FromSeconds(20), "gamma added");
        Assert.Equal("unloaded", (await ModelAsync(server, "gamma")).GetProperty("status").GetString());
        File.Delete(_dir.File("beta.gguf"));
        await EngineHarness.WaitUntilAsync(() => server.Engine.Manager.Find("beta") is null, TimeSpan.FromSeconds(20), "beta removed");
        using var gone = await server.Http.GetAsync("v1/models/beta");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_client_that_goes_away_frees_its_slot_in_the_worker_and_per_model_parallel_applies()
    {
        // alpha has one slot (per-model setting); a second request can only run once the first one's cancel reached the worker.
        await using var server = await StartAsync(TwoModels(("CtxSize", "8192"), ("Models:alpha:Parallel", "1")));
        Assert.Equal(1, server.Engine.Manager.Find("alpha")!.Plan!.Parallel);
        var steps = 0;
        server.Engine.Manager.WorkerStep += (id, _) => Interlocked.Increment(ref steps);
        using (var first = await CompleteAsync(server, "alpha", maxTokens: 8000, stream: true))
        {
            using var reader = new StreamReader(await first.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        }

        var watch = Stopwatch.StartNew();
        using var second = await CompleteAsync(server, "alpha", maxTokens: 4);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"the second request waited {watch.Elapsed} for the slot");
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(20), "no sequence left in the worker");

        // One token per step with one slot: had the cancel not reached the worker, the first stream alone took 8,000 steps.
        Assert.InRange(Volatile.Read(ref steps), 4, 7999);
    }

    [Fact]
    public async Task Concurrent_requests_for_an_unloaded_model_share_one_load()
    {
        await using var server = await StartAsync(TwoModels());
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => CompleteAsync(server, "alpha", stream: true)));
        foreach (var response in responses)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(1, server.Engine.Manager.Find("alpha")!.Counters.Loads);
    }

    [Fact]
    public async Task Preloaded_models_are_loaded_at_start_and_the_others_are_not()
    {
        await using var server = await StartAsync(TwoModels(("Preload:0", "beta")));
        Assert.Equal("loaded", (await ModelAsync(server, "beta")).GetProperty("status").GetString());
        Assert.Equal("unloaded", (await ModelAsync(server, "alpha")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Admin_load_and_unload_need_an_admin_key_when_keys_are_configured()
    {
        var settings = TwoModels(("ApiKeys:0:Name", "user"), ("ApiKeys:0:Key", "sk-user-0123456789"), ("ApiKeys:1:Name", "root"), ("ApiKeys:1:Key", "sk-root-0123456789"), ("ApiKeys:1:Admin", "true"));
        await using var server = await StartAsync(settings);
        async Task<HttpResponseMessage> Post(string path, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"model":"alpha"}""", Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            return await server.Http.SendAsync(request);
        }

        using (var denied = await Post("models/load", "sk-user-0123456789"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        using (var load = await Post("models/load", "sk-root-0123456789"))
        {
            var body = await load.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            Assert.Contains("\"status\":\"loaded\"", body, StringComparison.Ordinal);
        }

        var pid = server.Engine.Manager.Find("alpha")!.Pid!.Value;
        using (var unload = await Post("models/unload", "sk-root-0123456789"))
        {
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        Assert.Equal(ModelState.Pending, server.Engine.Manager.Find("alpha")!.State);
        using var worker = TryGetProcess(pid);
        Assert.True(worker is null || worker.WaitForExit(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Embedding_models_run_in_a_worker_the_same_way()
    {
        await using var server = await StartAsync(TwoModels(("Embeddings:0", "alpha")));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings") { Content = new StringContent("""{"model":"alpha","input":["hello","world"]}""", Encoding.UTF8, "application/json") };
        using var response = await server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        var vector = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.InRange(Math.Sqrt(vector.Sum(v => v * v)), 0.999, 1.001);
        Assert.NotNull(server.Engine.Manager.Find("alpha")!.Pid);
    }

    [Fact]
    public async Task Workers_exit_when_the_server_is_killed()
    {
        File.Copy(ScriptedModels.Engine.Path, _dir.File("alpha.gguf"));
        await using var child = ChildServer.Serve("--models-dir", _dir.Path, "--preload", "alpha", "--threads", "1", "--parallel", "1", "--ctx-size", "256");
        await child.AssertReadyAsync();
        using var http = new HttpClient { BaseAddress = child.HttpBase };
        var model = JsonDocument.Parse(await http.GetStringAsync("v1/models/alpha")).RootElement;
        Assert.Equal("loaded", model.GetProperty("status").GetString());
        var pid = model.GetProperty("pid").GetInt32();
        using var worker = Process.GetProcessById(pid);
        child.Process.Kill();
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(20)), "the worker outlived its server");
    }

    private static Process? TryGetProcess(int pid)
    {
        try
        {
            return Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
