using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>Many streams at once, client cancellation and deadlines: a call that ends early frees its slot.</summary>
public sealed class GrpcCancellationTests
{
    /// <summary>Tokens per sequence for the "endless" streams: far more than the steps a cancelled one may take.</summary>
    private const int LongContext = 4096;

    private static Dictionary<string, string?> Settings(int parallel) => new()
    {
        ["Parallel"] = parallel.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["CtxSize"] = LongContext.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task Sixteen_concurrent_streams_all_complete_with_the_same_greedy_text()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = "4" });
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var streams = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(8 + i, seed: i), maxTokens: 24)))));

        Assert.All(streams, s =>
        {
            Assert.Equal(FinishReason.Length, s.Final.FinishReason);
            Assert.Equal(24, s.Final.Usage.CompletionTokens);
            Assert.Equal(streams[0].Text, s.Text);
        });
        Assert.StartsWith(" a b a b", streams[0].Text, StringComparison.Ordinal);
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "no active sequences");
    }

    [Fact]
    public async Task Cancelling_half_of_sixteen_streams_mid_stream_leaves_no_active_sequence()
    {
        await using var server = await ServerHarness.StartAsync(Settings(parallel: 16));
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var ends = new System.Collections.Concurrent.ConcurrentQueue<(string Status, SovereignInference.Engine.Requests.FinishReason? Finish)>();
        server.Engine.GenerationCompleted += record => ends.Enqueue((record.Status, record.Finish));

        // Eight bounded streams that finish on their own, eight endless ones (4096-token context) cancelled mid-stream.
        var bounded = Enumerable.Range(0, 8)
            .Select(i => GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(6, seed: i), maxTokens: 16))))
            .ToList();
        var endless = new List<(CancellationTokenSource Cts, Task<int> Received)>();
        var firstTokens = new List<Task>();
        for (var i = 0; i < 8; i++)
        {
            var cts = new CancellationTokenSource();
            var firstToken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(6, seed: 100 + i)), cancellationToken: cts.Token);
            endless.Add((cts, ReadUntilCancelledAsync(call, firstToken, cts.Token)));
            firstTokens.Add(firstToken.Task);
        }

        await Task.WhenAll(firstTokens).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var (cts, _) in endless)
        {
            await cts.CancelAsync();
        }

        foreach (var (cts, received) in endless)
        {
            Assert.True(await received > 0, "the cancelled stream had delivered tokens before it was cancelled");
            cts.Dispose();
        }

        Assert.All(await Task.WhenAll(bounded), s => Assert.Equal(16, s.Final.Usage.CompletionTokens));
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "no active sequences after cancelling");
        // The engine recorded the endless ones as cancelled (uncancelled, they would have run on to their 4096-token
        // context and ended by length), and the bounded ones as finished by length at 16 tokens.
        await EngineHarness.WaitUntilAsync(() => ends.Count == 16, TimeSpan.FromSeconds(30), "16 generations recorded");
        Assert.Equal(8, ends.Count(e => e.Status == "cancelled"));
        Assert.Equal(8, ends.Count(e => e.Status == "ok" && e.Finish == SovereignInference.Engine.Requests.FinishReason.Length));
    }

    [Fact]
    public async Task A_50_ms_deadline_on_an_endless_stream_ends_with_DEADLINE_EXCEEDED_and_frees_the_slot()
    {
        await using var server = await ServerHarness.StartAsync(Settings(parallel: 1));
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var steps = CountSteps(server);

        var call = client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(6)), deadline: DateTime.UtcNow.AddMilliseconds(50));
        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(call));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "the slot is freed");
        Assert.True(steps.Value < LongContext / 2, $"{steps.Value} steps: the sequence ran on after its deadline");

        // The single slot serves the next request.
        var next = await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"))));
        Assert.Equal(" Hello world!", next.Text);
    }

    private static async Task<int> ReadUntilCancelledAsync(AsyncServerStreamingCall<GenerateResponse> call, TaskCompletionSource firstToken, CancellationToken cancelled)
    {
        using (call)
        {
            var received = 0;
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync(CancellationToken.None)) // the call carries the token
                {
                    received += response.TokenIds.Count;
                    firstToken.TrySetResult();
                }
            }
            // Our own cancellation usually surfaces as CANCELLED; when it lands while Grpc.Net.Client is inside a read of
            // the response body, the client reports the aborted read as UNAVAILABLE ("Error reading next message. IOException:
            // The request was aborted.") instead. Either is this test's cancel, as long as it had been requested.
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled || (cancelled.IsCancellationRequested && ex.StatusCode == StatusCode.Unavailable))
            {
                firstToken.TrySetResult();
                return received;
            }

            throw new InvalidOperationException("the endless stream ended without being cancelled");
        }
    }

    private static StrongBoxCounter CountSteps(ServerHarness server)
    {
        var counter = new StrongBoxCounter();
        server.Engine.GetReadyModel("scripted").Scheduler!.StepCompleted += (StepRecord _) => Interlocked.Increment(ref counter.Count);
        return counter;
    }

    private sealed class StrongBoxCounter
    {
        public int Count;

        public int Value => Volatile.Read(ref Count);
    }
}
