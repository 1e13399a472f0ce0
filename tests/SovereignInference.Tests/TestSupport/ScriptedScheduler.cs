using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// A real <see cref="ModelScheduler"/> over a <see cref="ScriptedModelRunner"/> and <see cref="ScriptedTokenizer"/>:
/// the scheduler's own thread, queue and batch planning, with no native code. <see cref="HoldAsync"/> parks the
/// scheduler thread between steps so several requests can be queued before it plans the next batch.
/// </summary>
public sealed class ScriptedScheduler : IDisposable
{
    public ScriptedScheduler(ScriptedModelRunner runner, SchedulerOptions? options = null)
    {
        Runner = runner;
        Tokenizer = new ScriptedTokenizer(runner.VocabSize);
        Scheduler = new ModelScheduler("scripted", runner, Tokenizer, options ?? new SchedulerOptions(), NullLogger.Instance);
    }

    public ScriptedModelRunner Runner { get; }

    public ScriptedTokenizer Tokenizer { get; }

    public ModelScheduler Scheduler { get; }

    /// <summary>Fixed prompt chunks (no step-time sizing), so batch shapes do not depend on how fast this machine is.</summary>
    public static SchedulerOptions FixedChunks(int chunk, Func<string, int>? userWeight = null) =>
        new() { PrefillChunkTokens = chunk, MaxStepFactor = 0, UserWeight = userWeight };

    /// <summary>A greedy request (the planned token always wins).</summary>
    public SequenceRequest Request(int[] prompt, int maxNewTokens, string? user = null, bool ignoreEos = false) =>
        new(new GenerationRequest { Model = "scripted", User = user, IgnoreEos = ignoreEos, Sampling = SamplingParams.Greedy },
            prompt, maxNewTokens, new TokenSampler(SamplingParams.Greedy, Runner.VocabSize, prompt));

    /// <summary>Enqueues and reads the request to its end.</summary>
    public async Task<Outcome> RunAsync(SequenceRequest request)
    {
        Scheduler.Enqueue(request);
        return await ReadAsync(request);
    }

    /// <summary>Every token event of the request, then its finish reason (fails after 10 s).</summary>
    public static async Task<Outcome> ReadAsync(SequenceRequest request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tokens = new List<int>();
        await foreach (var e in request.Events.ReadAllAsync(timeout.Token))
        {
            if (e.IsFinal)
            {
                return new Outcome([.. tokens], e.Finish!.Value);
            }

            tokens.Add(e.Token.Token);
        }

        throw new InvalidOperationException("the request's events ended without a final event");
    }

    /// <summary>Parks the scheduler thread (between steps) until the returned handle is disposed.</summary>
    public async Task<IDisposable> HoldAsync()
    {
        var gate = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Scheduler.InvokeAsync(() =>
        {
            entered.SetResult();
            gate.Wait();
            return 0;
        });
        await entered.Task;
        return new Release(gate);
    }

    public void Dispose() => Scheduler.Dispose();

    /// <summary>What a request produced: its tokens and how it ended. Equal when both are (token lists compared by value).</summary>
    public sealed record Outcome(int[] Tokens, FinishReason Finish)
    {
        public bool Equals(Outcome? other) => other is not null && Finish == other.Finish && Tokens.SequenceEqual(other.Tokens);

        public override int GetHashCode() => HashCode.Combine(Finish, Tokens.Length);

        public override string ToString() => $"[{string.Join(", ", Tokens)}] {Finish}";
    }

    private sealed class Release(ManualResetEventSlim gate) : IDisposable
    {
        public void Dispose() => gate.Set();
    }
}
