using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Scheduling;

/// <summary>
/// Cancellation at an exact step, on the scripted runner: the request is cancelled from the runner's BeforeDecode hook
/// (on the scheduler thread, just before decode number N), so the step in flight completes and the next one no longer
/// carries the sequence. Its slot is free for the next request, and its KV cells are dropped (caller gone) or kept for
/// prefix reuse (a stop string ended it).
/// </summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task Cancelled_mid_prefill_the_sequence_frees_its_slot_and_its_partial_prompt_cells()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(4));
        var request = s.Request([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], maxNewTokens: 5);
        CancelBeforeDecode(s, request, 1);

        var (tokens, finish) = await s.RunAsync(request);

        Assert.Empty(tokens);
        Assert.Equal(FinishReason.Cancelled, finish);
        Assert.Equal(2, s.Runner.Batches.Count); // the second chunk was in flight; the third never came
        Assert.Equal((0, 0), s.Runner.Truncations[^1]);
        Assert.Empty(s.Runner.KvTokens(0));

        // The slot is free and holds nothing to reuse.
        s.Runner.BeforeDecode = null;
        var next = s.Request([10, 11, 12, 13], maxNewTokens: 1);
        Assert.Equal(new ScriptedScheduler.Outcome([14], FinishReason.Length), await s.RunAsync(next));
        Assert.Equal(0, next.CachedPromptTokens);
        await AssertIdleAsync(s);
    }

    [Fact]
    public async Task Cancelled_mid_decode_the_sequence_leaves_after_the_step_in_flight_and_its_cells_are_freed()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        var request = s.Request([10, 11, 12, 13], maxNewTokens: 50);
        CancelBeforeDecode(s, request, 3);

        var (tokens, finish) = await s.RunAsync(request);

        // Decodes 0 (prompt), 1, 2 and the one in flight when cancelled (3): four sampled tokens, then nothing.
        Assert.Equal([14, 15, 16, 17], tokens);
        Assert.Equal(FinishReason.Cancelled, finish);
        Assert.Equal(4, s.Runner.Batches.Count);
        Assert.Equal((0, 0), s.Runner.Truncations[^1]);
        Assert.Empty(s.Runner.KvTokens(0));
        s.Runner.BeforeDecode = null;
        Assert.Equal(new ScriptedScheduler.Outcome([31], FinishReason.Length), await s.RunAsync(s.Request([30], maxNewTokens: 1)));
        await AssertIdleAsync(s);
    }

    [Fact]
    public async Task Cancelled_mid_decode_keeping_the_cache_frees_the_slot_but_keeps_its_cells_for_the_next_prompt()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        var request = s.Request([10, 11, 12, 13], maxNewTokens: 50);
        CancelBeforeDecode(s, request, 3, keepCache: true); // as when a stop string ends the reply

        var (tokens, finish) = await s.RunAsync(request);

        Assert.Equal([14, 15, 16, 17], tokens);
        Assert.Equal(FinishReason.Cancelled, finish);
        Assert.Empty(s.Runner.Truncations);
        Assert.Equal([10, 11, 12, 13, 14, 15, 16], s.Runner.KvTokens(0));

        s.Runner.BeforeDecode = null;
        var next = s.Request([10, 11, 12, 13, 14, 15, 16, 40], maxNewTokens: 1);
        Assert.Equal(new ScriptedScheduler.Outcome([41], FinishReason.Length), await s.RunAsync(next));
        Assert.Equal(7, next.CachedPromptTokens);
        Assert.Equal([new BatchToken(40, 7, 0, true)], s.Runner.Batches[^1]);
        await AssertIdleAsync(s);
    }

    [Fact]
    public async Task Cancelled_while_queued_the_request_never_reaches_the_runner()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        var waiting = s.Request([50, 51], maxNewTokens: 1);
        var running = s.Request([10, 11], maxNewTokens: 1);
        using (await s.HoldAsync())
        {
            s.Scheduler.Enqueue(running);
            s.Scheduler.Enqueue(waiting);
            waiting.Cancel();
        }

        Assert.Equal(new ScriptedScheduler.Outcome([12], FinishReason.Length), await ScriptedScheduler.ReadAsync(running));
        Assert.Equal(new ScriptedScheduler.Outcome(Array.Empty<int>(), FinishReason.Cancelled), await ScriptedScheduler.ReadAsync(waiting));
        await AssertIdleAsync(s);
        Assert.DoesNotContain(s.Runner.Batches.SelectMany(b => b), t => t.Token is 50 or 51);
    }

    /// <summary>Cancels <paramref name="request"/> on the scheduler thread just before decode number <paramref name="index"/>.</summary>
    private static void CancelBeforeDecode(ScriptedScheduler s, SequenceRequest request, int index, bool keepCache = false) =>
        s.Runner.BeforeDecode = (i, _) =>
        {
            if (i == index)
            {
                request.Cancel(keepCache);
            }
        };

    private static async Task AssertIdleAsync(ScriptedScheduler s)
    {
        await EngineHarness.WaitUntilAsync(() => s.Scheduler.ActiveSequences == 0 && s.Scheduler.QueuedRequests == 0, TimeSpan.FromSeconds(10), "an idle scheduler");
        var snapshot = await s.Scheduler.SnapshotAsync();
        Assert.Equal(0, snapshot.ActiveSequences);
        Assert.Equal(s.Runner.KvTokens(0).Length, snapshot.SlotLengths[0]);
        Assert.Empty(s.Runner.Violations);
    }
}
