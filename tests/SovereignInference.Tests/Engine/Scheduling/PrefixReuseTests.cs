using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Scheduling;

/// <summary>A slot keeps its KV cells after a request ends; a later prompt sharing their prefix decodes only what is new.</summary>
public sealed class PrefixReuseTests
{
    private static readonly int[] SharedPrefix = [10, 11, 12, 13, 14, 15, 16, 17];

    [Fact]
    public async Task Second_request_with_the_same_prefix_decodes_only_its_new_tokens()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        var first = await s.RunAsync(s.Request(SharedPrefix, maxNewTokens: 2));
        Assert.Equal(new ScriptedScheduler.Outcome([18, 19], FinishReason.Length), first);
        Assert.Equal([.. SharedPrefix, 18], s.Runner.KvTokens(0)); // the prompt and the token fed back
        var batchesBefore = s.Runner.Batches.Count;

        var second = s.Request([.. SharedPrefix, 30, 31], maxNewTokens: 2);
        var result = await s.RunAsync(second);

        Assert.Equal(new ScriptedScheduler.Outcome([32, 33], FinishReason.Length), result);
        Assert.Equal(8, second.CachedPromptTokens);
        // The cached generated token (18) differs from the new prompt there: it is dropped, the prefix is kept.
        Assert.Equal([(0, 8)], s.Runner.Truncations);
        var batches = s.Runner.Batches;
        Assert.Equal(batchesBefore + 2, batches.Count);
        Assert.Equal([new BatchToken(30, 8, 0, false), new BatchToken(31, 9, 0, true)], batches[batchesBefore]);
        Assert.Equal([new BatchToken(32, 10, 0, true)], batches[batchesBefore + 1]);
        Assert.Equal([.. SharedPrefix, 30, 31, 32], s.Runner.KvTokens(0));
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task Identical_prompt_refeeds_only_its_last_token_for_the_logits()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        var first = await s.RunAsync(s.Request(SharedPrefix, maxNewTokens: 2));
        var batchesBefore = s.Runner.Batches.Count;

        var again = s.Request(SharedPrefix, maxNewTokens: 2);
        var second = await s.RunAsync(again);

        Assert.Equal(first, second);
        Assert.Equal(SharedPrefix.Length - 1, again.CachedPromptTokens);
        Assert.Equal([new BatchToken(17, 7, 0, true)], s.Runner.Batches[batchesBefore]);
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task The_free_slot_with_the_longest_shared_prefix_is_chosen()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 2), ScriptedScheduler.FixedChunks(64));
        var low = s.Request([1, 2, 3, 4], maxNewTokens: 2);
        var high = s.Request([50, 51, 52, 53], maxNewTokens: 2);
        using (await s.HoldAsync())
        {
            // Two requests at once so they land in different slots: slot 0 caches [1..5], slot 1 caches [50..54].
            s.Scheduler.Enqueue(low);
            s.Scheduler.Enqueue(high);
        }

        await ScriptedScheduler.ReadAsync(low);
        await ScriptedScheduler.ReadAsync(high);
        Assert.Equal([[1, 2, 3, 4], [50, 51, 52, 53]], s.Runner.Batches[0].GroupBy(t => t.Sequence).Select(g => g.Select(t => t.Token).ToArray()));
        var third = s.Request([50, 51, 52, 53, 60], maxNewTokens: 2);
        var result = await s.RunAsync(third);

        Assert.Equal(new ScriptedScheduler.Outcome([61, 62], FinishReason.Length), result);
        Assert.Equal(4, third.CachedPromptTokens);
        Assert.Equal((1, 4), s.Runner.Truncations[^1]);
        Assert.Equal([new BatchToken(60, 4, 1, true)], s.Runner.Batches[^2]);
        Assert.Equal([1, 2, 3, 4, 5], s.Runner.KvTokens(0)); // the other slot's cache is untouched
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task A_request_ending_on_its_first_token_keeps_its_prompt_cached()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(64));
        await s.RunAsync(s.Request(SharedPrefix, maxNewTokens: 1));

        Assert.Equal(SharedPrefix, s.Runner.KvTokens(0));
        var again = s.Request(SharedPrefix, maxNewTokens: 1);
        await s.RunAsync(again);
        Assert.Equal(SharedPrefix.Length - 1, again.CachedPromptTokens);
    }
}
