using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Tests.Engine.Scheduling;

/// <summary>The step-time model that sizes prompt chunks beside generating streams.</summary>
public sealed class PrefillBudgetTests
{
    [Fact]
    public void Nobody_generating_gets_the_full_chunk()
    {
        var budget = Measured();

        Assert.Equal(256, budget.Next(0));
    }

    [Fact]
    public void While_as_many_wait_for_their_prompt_as_generate_prompts_get_the_full_chunk()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 3, promptTokens: 0, seconds: 0.015);
        budget.Observe(decodeSequences: 0, promptTokens: 100, seconds: 0.200);

        Assert.Equal(256, budget.Next(decodeSequences: 3, prefillingSequences: 5)); // a wave of 8 arriving: fill the batch
        Assert.Equal(256, budget.Next(decodeSequences: 3, prefillingSequences: 3));
        Assert.Equal(7, budget.Next(decodeSequences: 3, prefillingSequences: 2)); // streams are the majority: keep steps short
        Assert.Equal(7, budget.Next(decodeSequences: 3));
    }

    [Fact]
    public void Decode_is_measured_first_then_chunks_start_small()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);

        Assert.Equal(0, budget.Next(3)); // a decode-only step, to learn what the streams need
        budget.Observe(decodeSequences: 3, promptTokens: 0, seconds: 0.010);
        Assert.Equal(PrefillBudget.WarmupChunk, budget.Next(3));

        var small = new PrefillBudget(maxChunk: 8, factor: 2, maxSequences: 8);
        small.Observe(decodeSequences: 3, promptTokens: 0, seconds: 0.010);
        Assert.Equal(8, small.Next(3));
    }

    [Fact]
    public void A_long_prefill_pauses_for_a_decode_only_step_to_refresh_the_decode_time()
    {
        var budget = Measured();
        for (var i = 0; i < PrefillBudget.RefreshSteps - 1; i++)
        {
            budget.Observe(decodeSequences: 8, promptTokens: 15, seconds: 0.060);
            Assert.Equal(15, budget.Next(8));
        }

        budget.Observe(decodeSequences: 8, promptTokens: 15, seconds: 0.060);
        Assert.Equal(0, budget.Next(8));
        Assert.Equal(256, budget.Next(0)); // nobody to stall: no pause needed

        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.030);
        Assert.Equal(15, budget.Next(8));
    }

    [Fact]
    public void Outlier_steps_do_not_move_the_estimates_but_a_lasting_slowdown_is_learned()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.030);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.031);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.400); // preempted by another process
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.030);
        Assert.InRange(budget.DecodeStepSeconds(8), 0.030, 0.031);
        budget.Observe(decodeSequences: 0, promptTokens: 100, seconds: 0.200);
        budget.Observe(decodeSequences: 0, promptTokens: 100, seconds: 0.200);
        budget.Observe(decodeSequences: 0, promptTokens: 10, seconds: 5); // ditto, beside a prompt
        Assert.Equal(0.002, budget.SecondsPerPromptToken, 9);

        for (var i = 0; i < 3 * PrefillBudget.DecodeWindow; i++) // past the ring's wrap-around
        {
            budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.050); // longer contexts: slower for good
        }

        Assert.Equal(0.050, budget.DecodeStepSeconds(8), 9);
    }

    [Fact]
    public void Chunk_keeps_the_step_within_the_factor_of_a_decode_step()
    {
        // 8 streams decode in 30 ms; a prompt token costs 2 ms. Factor 2 leaves 30 ms for prompt tokens: 15 of them.
        var budget = Measured();

        Assert.Equal(0.030, budget.DecodeStepSeconds(8), 9);
        Assert.Equal(0.002, budget.SecondsPerPromptToken, 9);
        Assert.Equal(15, budget.Next(8));
        Assert.Equal(30, Measured(factor: 3).Next(8));
    }

    [Fact]
    public void Unmeasured_batch_sizes_use_the_nearest_smaller_measured_one()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 2, promptTokens: 0, seconds: 0.010);
        budget.Observe(decodeSequences: 0, promptTokens: 10, seconds: 0.010);

        Assert.Equal(0.010, budget.DecodeStepSeconds(5), 9);
        Assert.Equal(0, budget.DecodeStepSeconds(1));
        Assert.Equal(10, budget.Next(5));
        Assert.Equal(0, budget.Next(1)); // nothing measured at or below 1 sequence: measure first
    }

    [Fact]
    public void Mixed_steps_charge_prompt_tokens_only_for_what_they_add_to_the_decode()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 4, promptTokens: 0, seconds: 0.020);
        budget.Observe(decodeSequences: 4, promptTokens: 10, seconds: 0.040); // 20 ms extra for 10 tokens

        Assert.Equal(0.002, budget.SecondsPerPromptToken, 9);
        Assert.Equal(10, budget.Next(4));
    }

    [Fact]
    public void Estimates_follow_the_recent_steps()
    {
        var budget = Measured();
        for (var i = 0; i < 100; i++)
        {
            // Prompt tokens got 4x cheaper (say, a warmer cache or a GPU).
            budget.Observe(decodeSequences: 8, promptTokens: 10, seconds: 0.035);
        }

        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.030); // the periodic decode-only step

        Assert.Equal(0.0005, budget.SecondsPerPromptToken, 6);
        Assert.InRange(budget.Next(8), 58, 60); // 30 ms / 0.5 ms, the average still a hair above 0.5 ms
    }

    [Fact]
    public void Chunks_stay_between_the_minimum_and_the_maximum()
    {
        var slowTokens = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        slowTokens.Observe(decodeSequences: 1, promptTokens: 0, seconds: 0.001);
        slowTokens.Observe(decodeSequences: 0, promptTokens: 1, seconds: 1);
        Assert.Equal(PrefillBudget.MinChunk, slowTokens.Next(1));

        var cheapTokens = new PrefillBudget(maxChunk: 64, factor: 2, maxSequences: 8);
        cheapTokens.Observe(decodeSequences: 1, promptTokens: 0, seconds: 1);
        cheapTokens.Observe(decodeSequences: 0, promptTokens: 1000, seconds: 0.001);
        Assert.Equal(64, cheapTokens.Next(1));
    }

    [Fact]
    public void Factor_zero_turns_sizing_off()
    {
        var budget = Measured(factor: 0);

        Assert.Equal(256, budget.Next(8));
        Assert.Equal(256, budget.Next(1));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1)]
    [InlineData(-2)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Factors_that_cannot_work_are_refused(double factor)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillBudget(maxChunk: 256, factor: factor, maxSequences: 8));
    }

    [Fact]
    public void Nonsense_measurements_are_ignored()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: double.NaN);
        budget.Observe(decodeSequences: 99, promptTokens: 0, seconds: 0.1);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: -1);
        budget.Observe(decodeSequences: 8, promptTokens: 10, seconds: 0.1); // no decode baseline yet: cannot attribute

        Assert.Equal(0, budget.DecodeStepSeconds(8));
        Assert.Equal(0, budget.SecondsPerPromptToken);
    }

    /// <summary>A budget that has seen 8 streams decode in 30 ms and a 100-token prompt take 200 ms (2 ms a token).</summary>
    private static PrefillBudget Measured(double factor = 2, int maxChunk = 256)
    {
        var budget = new PrefillBudget(maxChunk, factor, maxSequences: 8);
        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.030);
        budget.Observe(decodeSequences: 0, promptTokens: 100, seconds: 0.200);
        return budget;
    }
}
