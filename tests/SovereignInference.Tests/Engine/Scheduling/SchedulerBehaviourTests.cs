using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Scheduling;

/// <summary>Cancellation, chunked prefill and overload on a real engine over the scripted model.</summary>
public sealed class SchedulerBehaviourTests
{
    private const string Model = "scripted";

    private static Task<EngineHarness> StartAsync(int parallel, int context, int prefillChunk = 256, int queueCapacity = 64)
    {
        var path = ScriptedModels.Engine.Path;
        return EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [path],
            Aliases = new() { [Path.GetFileName(path)] = Model },
            Parallel = parallel,
            CtxSize = context,
            PrefillChunk = prefillChunk,
            QueueCapacity = queueCapacity,
        });
    }

    /// <summary>Starts an endless stream and returns a counter of the tokens it has produced.</summary>
    private static (Task Run, StrongBox<int> Tokens) StartEndless(EngineHarness harness, CancellationToken cancellationToken, int promptLength = 2)
    {
        var count = new StrongBox<int>();
        // No max_tokens: the stream runs until cancelled or its (large) context is full.
        var request = new GenerationRequest { Model = Model, PromptTokens = ScriptedModels.LoopPrompt(promptLength, seed: promptLength), Sampling = SamplingParams.Greedy };
        var run = Task.Run(async () =>
        {
            await foreach (var update in harness.Engine.GenerateAsync(request, cancellationToken))
            {
                Interlocked.Add(ref count.Value, update.Tokens.Count);
            }
        });
        return (run, count);
    }

    [Fact]
    public async Task Hundred_requests_cancelled_at_random_points_leave_no_active_sequence_and_an_empty_kv_cache()
    {
        // A context far longer than any cancel point: no request can end on its own before it is cancelled.
        await using var harness = await StartAsync(parallel: 4, context: 8192, queueCapacity: 128);
        var random = new Random(99);
        var outcomes = new ConcurrentBag<string>();
        var runs = Enumerable.Range(0, 100).Select(i =>
        {
            // Half are cancelled by a timer (queued, prefilling or decoding), half after a random number of tokens.
            var delay = random.Next(0, 40);
            var afterTokens = i % 2 == 0 ? -1 : random.Next(0, 30);
            var promptLength = random.Next(2, 40);
            return Task.Run(async () =>
            {
                using var cts = afterTokens < 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(delay)) : new CancellationTokenSource();
                var seen = 0;
                try
                {
                    var request = EngineHarness.Greedy(Model, ScriptedModels.LoopPrompt(promptLength, seed: i), 8000);
                    await foreach (var update in harness.Engine.GenerateAsync(request, cts.Token))
                    {
                        if (update.Finish is not null)
                        {
                            outcomes.Add("finished:" + update.Finish);
                        }

                        seen += update.Tokens.Count;
                        if (afterTokens >= 0 && seen >= afterTokens)
                        {
                            await cts.CancelAsync();
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    outcomes.Add("cancelled");
                }
            });
        }).ToArray();
        await Task.WhenAll(runs);

        Assert.Equal(100, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal("cancelled", o));
        var scheduler = harness.Scheduler(Model);
        await EngineHarness.WaitUntilAsync(() => scheduler.ActiveSequences == 0 && scheduler.QueuedRequests == 0, TimeSpan.FromSeconds(5), "no active or queued sequence");
        var snapshot = await scheduler.SnapshotAsync();
        Assert.Equal(0, snapshot.ActiveSequences);
        Assert.Equal(0, snapshot.KvCellsUsed);
        Assert.All(snapshot.SlotLengths, length => Assert.Equal(0, length));

        // And the engine still serves.
        var ok = await harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("[/INST]"), 8));
        Assert.Equal(" Hello world!", ok.Text);
    }

    [Fact]
    public async Task Cancelled_sequence_leaves_the_batch_within_one_step()
    {
        await using var harness = await StartAsync(parallel: 2, context: 8192);
        var scheduler = harness.Scheduler(Model);
        var steps = new ConcurrentQueue<StepRecord>();
        scheduler.StepCompleted += steps.Enqueue;
        using var keepBusy = new CancellationTokenSource();
        var (busyRun, _) = StartEndless(harness, keepBusy.Token);

        using var cts = new CancellationTokenSource();
        var (run, tokens) = StartEndless(harness, cts.Token, promptLength: 3);
        await EngineHarness.WaitUntilAsync(() => Volatile.Read(ref tokens.Value) >= 5, TimeSpan.FromSeconds(10), "5 tokens");

        // Cancel() runs the registration synchronously: when it returns, the sequence's flag is set. Steps
        // counted from here on may include the one in flight, and no other may still carry the sequence.
#pragma warning disable CA1849 // synchronous on purpose, see above
        cts.Cancel();
#pragma warning restore CA1849
        var stepsBeforeCancel = steps.Count;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        await EngineHarness.WaitUntilAsync(() => steps.Skip(stepsBeforeCancel).Any(s => s.ActiveSequences == 1), TimeSpan.FromSeconds(5), "a step without the cancelled sequence");

        // The step in flight when Cancel ran may still carry it; the one after must not.
        var after = steps.Skip(stepsBeforeCancel).ToArray();
        var stepsWithIt = after.TakeWhile(s => s.ActiveSequences == 2).Count();
        Assert.True(stepsWithIt <= 1, $"{stepsWithIt} steps still carried the cancelled sequence: {string.Join(", ", after.Take(8))}");
        var snapshot = await scheduler.SnapshotAsync();
        Assert.Equal(1, snapshot.SlotLengths.Count(l => l > 0));

        await keepBusy.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busyRun);
    }

    [Fact]
    public async Task Long_prompt_admitted_mid_stream_does_not_stop_the_running_streams()
    {
        await using var harness = await StartAsync(parallel: 4, context: 8192, prefillChunk: 16);
        var scheduler = harness.Scheduler(Model);
        using var cts = new CancellationTokenSource();
        var streams = Enumerable.Range(0, 3).Select(i => StartEndless(harness, cts.Token, promptLength: 2 + i)).ToArray();
        await EngineHarness.WaitUntilAsync(() => streams.All(s => Volatile.Read(ref s.Tokens.Value) >= 3), TimeSpan.FromSeconds(10), "3 streams running");

        var steps = new ConcurrentQueue<StepRecord>();
        void OnStep(StepRecord step) => steps.Enqueue(step);
        scheduler.StepCompleted += OnStep;
        var longPrompt = ScriptedModels.LoopPrompt(320, seed: 5);
        var result = await harness.RunAsync(EngineHarness.Greedy(Model, longPrompt, 2));
        scheduler.StepCompleted -= OnStep;

        Assert.Equal(FinishReason.Length, result.Finish);
        var prefillSteps = steps.Where(s => s.PrefillTokens > 0).ToArray();
        Assert.True(prefillSteps.Length >= 320 / 16, $"the prompt was fed in {prefillSteps.Length} steps");
        Assert.All(prefillSteps, s =>
        {
            Assert.InRange(s.PrefillTokens, 1, 16);
            Assert.Equal(3, s.DecodeSequences);
        });

        await cts.CancelAsync();
        foreach (var (run, _) in streams)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
    }

    [Fact]
    public async Task Full_queue_gives_overloaded_at_once_and_the_engine_keeps_serving()
    {
        await using var harness = await StartAsync(parallel: 1, context: 8192, queueCapacity: 1);
        var scheduler = harness.Scheduler(Model);
        using var cts = new CancellationTokenSource();
        var (running, tokens) = StartEndless(harness, cts.Token);
        await EngineHarness.WaitUntilAsync(() => Volatile.Read(ref tokens.Value) >= 1, TimeSpan.FromSeconds(10), "the slot is busy");
        var (queued, _) = StartEndless(harness, cts.Token, promptLength: 3);
        await EngineHarness.WaitUntilAsync(() => scheduler.QueuedRequests == 1, TimeSpan.FromSeconds(10), "one request queued");

        var error = await Assert.ThrowsAsync<EngineException>(() => harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("[/INST]"), 4)));
        Assert.Equal(EngineErrorCode.Overloaded, error.Code);
        Assert.NotNull(error.RetryAfter);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        var ok = await harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("[/INST]"), 8));
        Assert.Equal(" Hello world!", ok.Text);
    }
}
