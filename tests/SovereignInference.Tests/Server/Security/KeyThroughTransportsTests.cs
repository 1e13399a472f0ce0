using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Observability;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>
/// From an API key on the wire (HTTP Bearer header, gRPC authorization metadata) to what is kept per key:
/// the audit log, /metrics, the token budget and fair share. The other tests of these set
/// <c>GenerationRequest.User</c> on engine calls; these go through the adapters that set it.
/// </summary>
public sealed class KeyThroughTransportsTests
{
    private static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    private static HttpRequestMessage Chat(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    /// <summary>A chat that answers " Hello world!" (3 tokens); the body names another user, which the key overrides.</summary>
    private const string HelloChat = """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":0,"user":"mallory"}""";

    [Fact]
    public async Task Requests_over_http_and_grpc_are_audited_and_counted_under_the_calling_key()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerHarness.StartAsync(TwoKeys(("Audit:Path", dir.Path)));
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);

        using (var response = await server.Http.SendAsync(Chat(AliceKey, HelloChat)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var request = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));
        request.User = "mallory";
        var stream = await GrpcTestClient.ReadAllAsync(grpc.Generate(request, Bearer(BobKey)));
        Assert.Equal(" Hello world!", stream.Text);

        var file = Assert.Single(Directory.GetFiles(dir.Path, "audit-*.jsonl"));
        var lines = (await ReadSharedAsync(file)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["alice", "bob"], lines.Select(l => l.GetProperty("key").GetString()));
        Assert.All(lines, l => Assert.Equal(("ok", "stop", 3), (l.GetProperty("status").GetString(), l.GetProperty("finish_reason").GetString(), l.GetProperty("completion_tokens").GetInt32())));

        // /metrics is behind the key too, and counts both transports' requests.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(Get("metrics", null))).StatusCode);
        using var metrics = await server.Http.SendAsync(Get("metrics", BobKey));
        var samples = ParsePrometheus(await metrics.Content.ReadAsStringAsync());
        Assert.Equal(2, Sample(samples, "sovereign_requests_total", ("model", "scripted"), ("status", "ok"), ("finish_reason", "stop")));
        Assert.Equal(6, Sample(samples, "sovereign_generation_tokens_total", ("model", "scripted")));
    }

    [Fact]
    public async Task Token_budgets_are_charged_to_the_key_that_called_over_http_and_grpc()
    {
        // One token a minute: the first generation spends a budget, and it stays spent for the whole test.
        await using var server = await ServerHarness.StartAsync(TwoKeys(("ApiKeys:0:TokensPerMinute", "1"), ("ApiKeys:1:TokensPerMinute", "1")));
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        var hello = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));

        using (var first = await server.Http.SendAsync(Chat(AliceKey, HelloChat)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // alice's HTTP call spent alice's budget, not bob's (nor "mallory"'s, named in the body).
        using (var spent = await server.Http.SendAsync(Chat(AliceKey, HelloChat)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, spent.StatusCode);
        }

        var alicePaysOverGrpc = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(grpc.Generate(hello, Bearer(AliceKey))));
        Assert.Equal(StatusCode.ResourceExhausted, alicePaysOverGrpc.StatusCode);

        Assert.Equal(" Hello world!", (await GrpcTestClient.ReadAllAsync(grpc.Generate(hello, Bearer(BobKey)))).Text);
        var bobSpent = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(grpc.Generate(hello, Bearer(BobKey))));
        Assert.Equal(StatusCode.ResourceExhausted, bobSpent.StatusCode);
        using var bobOverHttp = await server.Http.SendAsync(Chat(BobKey, HelloChat));
        Assert.Equal(HttpStatusCode.TooManyRequests, bobOverHttp.StatusCode);
    }

    [Fact]
    public async Task A_key_flooding_over_http_does_not_starve_another_key_calling_over_grpc()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(("Parallel", "1")));
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        var scheduler = server.Engine.GetReadyModel("scripted").Scheduler!;
        var completed = new ConcurrentQueue<GenerationRecord>();
        server.Engine.GenerationCompleted += completed.Enqueue;
        const int Flood = 12;

        // Twelve 64-token completions by alice over HTTP, all queued or running on the one slot before bob calls.
        var prompt = JsonSerializer.Serialize(ScriptedModels.LoopPrompt(8));
        var flood = Enumerable.Range(0, Flood).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
            {
                Content = new StringContent($$"""{"model":"scripted","prompt":{{prompt}},"max_tokens":64,"temperature":0}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AliceKey);
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }).ToList();
        await EngineHarness.WaitUntilAsync(
            () => scheduler.QueuedRequests + scheduler.ActiveSequences + completed.Count >= Flood, TimeSpan.FromSeconds(60), "the flood is queued");
        var bob = await GrpcTestClient.ReadAllAsync(grpc.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]")), Bearer(BobKey)));
        await Task.WhenAll(flood);

        // Admission time = call start + queue wait. FIFO would admit every alice request queued when bob arrived
        // before him; round robin by key admits at most one (the one whose turn it was).
        Assert.Equal(" Hello world!", bob.Text);
        var records = completed.ToList();
        Assert.Equal(Flood + 1, records.Count);
        static DateTimeOffset Admitted(GenerationRecord r) => r.Started + r.Timings!.QueueWait;
        var bobRecord = records.Single(r => r.Request.User == "bob");
        var alice = records.Where(r => r.Request.User == "alice").ToList();
        Assert.Equal(Flood, alice.Count);
        var queuedWhenBobCame = alice.Count(r => Admitted(r) > bobRecord.Started);
        Assert.True(queuedWhenBobCame >= 3, $"only {queuedWhenBobCame} alice requests were still queued when bob called");
        Assert.InRange(alice.Count(r => Admitted(r) > bobRecord.Started && Admitted(r) < Admitted(bobRecord)), 0, 1);
    }

    private static async Task<string[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
