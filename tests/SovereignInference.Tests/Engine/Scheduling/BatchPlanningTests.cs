using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Scheduling;

/// <summary>
/// How the scheduler fills each decode batch, on the managed scripted runner (no llama.cpp): prompt chunks under the
/// token budget, logits only where a token is sampled, a token for every generating sequence first in every step.
/// Fixed chunks (MaxStepFactor 0) keep the plan independent of the machine's speed.
/// </summary>
public sealed class BatchPlanningTests
{
    private static BatchToken Feed(int token, int position, int sequence = 0, bool logits = false) => new(token, position, sequence, logits);

    [Fact]
    public async Task Prompt_longer_than_the_chunk_is_fed_in_chunks_with_logits_only_for_its_last_token_then_one_token_per_step()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(4));

        var (tokens, finish) = await s.RunAsync(s.Request([10, 11, 12, 13, 14, 15, 16, 17, 18, 19], maxNewTokens: 3));

        Assert.Equal([20, 21, 22], tokens); // the default plan: last token + 1
        Assert.Equal(FinishReason.Length, finish);
        var batches = s.Runner.Batches;
        Assert.Equal(5, batches.Count);
        Assert.Equal([Feed(10, 0), Feed(11, 1), Feed(12, 2), Feed(13, 3)], batches[0]);
        Assert.Equal([Feed(14, 4), Feed(15, 5), Feed(16, 6), Feed(17, 7)], batches[1]);
        Assert.Equal([Feed(18, 8), Feed(19, 9, logits: true)], batches[2]);
        Assert.Equal([Feed(20, 10, logits: true)], batches[3]);
        Assert.Equal([Feed(21, 11, logits: true)], batches[4]);
        // The last sampled token is never decoded: the cache holds the prompt and the tokens fed back.
        Assert.Equal([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], s.Runner.KvTokens(0));
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task A_generating_sequence_gets_its_token_first_in_every_step_while_another_prompt_is_fed_in_chunks()
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 2), ScriptedScheduler.FixedChunks(4));
        var a = s.Request([1, 2], maxNewTokens: 6);
        var b = s.Request([40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51], maxNewTokens: 2);
        using (await s.HoldAsync())
        {
            s.Scheduler.Enqueue(a);
            s.Scheduler.Enqueue(b);
        }

        Assert.Equal(new ScriptedScheduler.Outcome([3, 4, 5, 6, 7, 8], FinishReason.Length), await ScriptedScheduler.ReadAsync(a));
        Assert.Equal(new ScriptedScheduler.Outcome([52, 53], FinishReason.Length), await ScriptedScheduler.ReadAsync(b));
        var batches = s.Runner.Batches;
        // Step 0: both prompts share the chunk, oldest first. Then A's decode token leads every batch, B's chunk follows.
        Assert.Equal([Feed(1, 0), Feed(2, 1, logits: true), Feed(40, 0, 1), Feed(41, 1, 1)], batches[0]);
        Assert.Equal([Feed(3, 2, logits: true), Feed(42, 2, 1), Feed(43, 3, 1), Feed(44, 4, 1), Feed(45, 5, 1)], batches[1]);
        Assert.Equal([Feed(4, 3, logits: true), Feed(46, 6, 1), Feed(47, 7, 1), Feed(48, 8, 1), Feed(49, 9, 1)], batches[2]);
        Assert.Equal([Feed(5, 4, logits: true), Feed(50, 10, 1), Feed(51, 11, 1, logits: true)], batches[3]);
        Assert.Equal([Feed(6, 5, logits: true), Feed(52, 12, 1, logits: true)], batches[4]);
        Assert.Equal([Feed(7, 6, logits: true)], batches[5]);
        Assert.Equal(6, batches.Count);
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task Decode_tokens_go_in_slot_order_whatever_order_the_sequences_were_admitted_in()
    {
        // llama.cpp (one KV stream per sequence) splits a batch into one pass per run of consecutive sequence ids in
        // token order: 2, 0, 1 would cost two passes, 0, 1, 2 one.
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 3), ScriptedScheduler.FixedChunks(16));
        var first = new[] { s.Request([1, 2, 3], maxNewTokens: 2), s.Request([10, 11, 12], maxNewTokens: 2), s.Request([20, 21, 22], maxNewTokens: 2) };
        using (await s.HoldAsync())
        {
            foreach (var r in first)
            {
                s.Scheduler.Enqueue(r);
            }
        }

        foreach (var r in first)
        {
            await ScriptedScheduler.ReadAsync(r);
        }

        // Each new prompt extends one slot's cache, so prefix reuse hands out slots 2, 0, 1 in admission order.
        var second = new[] { s.Request([20, 21, 22, 90], maxNewTokens: 4), s.Request([1, 2, 3, 91], maxNewTokens: 4), s.Request([10, 11, 12, 92], maxNewTokens: 4) };
        var before = s.Runner.Batches.Count;
        using (await s.HoldAsync())
        {
            foreach (var r in second)
            {
                s.Scheduler.Enqueue(r);
            }
        }

        foreach (var r in second)
        {
            await ScriptedScheduler.ReadAsync(r);
        }

        var decodeSteps = s.Runner.Batches.Skip(before).Where(b => b.Length == 3 && b.All(t => t.WantLogits)).ToList();
        Assert.NotEmpty(decodeSteps);
        Assert.All(decodeSteps, b => Assert.Equal([0, 1, 2], b.Select(t => t.Sequence)));
        Assert.Contains(s.Runner.Truncations, t => t.Sequence == 2 && t.From == 3);
        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task Prompt_chunks_take_only_what_the_batch_has_left_after_the_decode_tokens()
    {
        // Batches of at most 4 tokens; the chunk (8) would allow more.
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 3, maxBatchTokens: 4), ScriptedScheduler.FixedChunks(8));
        var a = s.Request([1, 2], maxNewTokens: 8);
        var b = s.Request([5, 6], maxNewTokens: 8);
        var c = s.Request([60, 61, 62, 63, 64, 65, 66, 67, 68, 69], maxNewTokens: 1);
        using (await s.HoldAsync())
        {
            s.Scheduler.Enqueue(a);
            s.Scheduler.Enqueue(b);
            s.Scheduler.Enqueue(c);
        }

        var c1 = await ScriptedScheduler.ReadAsync(c);
        await ScriptedScheduler.ReadAsync(a);
        await ScriptedScheduler.ReadAsync(b);

        Assert.Equal(new ScriptedScheduler.Outcome([70], FinishReason.Length), c1);
        var batches = s.Runner.Batches;
        Assert.All(batches, batch => Assert.InRange(batch.Length, 1, 4));
        Assert.Equal([Feed(1, 0), Feed(2, 1, logits: true), Feed(5, 0, 1), Feed(6, 1, 1, logits: true)], batches[0]);
        for (var step = 1; step <= 5; step++)
        {
            // Two decode tokens, then two of C's prompt tokens.
            var batch = batches[step];
            Assert.Equal([0, 1, 2, 2], batch.Select(t => t.Sequence));
            Assert.Equal([60 + (2 * (step - 1)), 61 + (2 * (step - 1))], ScriptedModelRunner.Of(batch, 2).Select(t => t.Token));
        }

        Assert.Empty(s.Runner.Violations);
    }

    [Fact]
    public async Task End_of_generation_token_stops_the_sequence_unless_the_request_ignores_it()
    {
        const int eos = 99;
        // Plan: after token 3 comes end of generation, otherwise last + 1.
        var runner = new ScriptedModelRunner(maxSequences: 1, nextToken: t => t[^1] == 3 ? eos : (t[^1] + 1) % eos);
        using var s = new ScriptedScheduler(runner, ScriptedScheduler.FixedChunks(8));

        var stopped = await s.RunAsync(s.Request([1], maxNewTokens: 10));
        var ignored = await s.RunAsync(s.Request([1], maxNewTokens: 4, ignoreEos: true));

        Assert.Equal(new ScriptedScheduler.Outcome([2, 3], FinishReason.Stop), stopped); // the end-of-generation token itself is not emitted
        Assert.Equal(new ScriptedScheduler.Outcome([2, 3, eos, 1], FinishReason.Length), ignored); // after eos the plan wraps to 1
        Assert.Empty(s.Runner.Violations);
    }
}
