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
    public void While_as_many_wait_for_their_prompt_as_generate_the_burst_rule_decides_otherwise_the_streams_keep_steps_short()
    {
        // A step's fixed cost (3 decoding streams) is 15 ms; a prompt token costs 2 ms. Prompts of 2 tokens are worth
        // taking together while each spares itself and those behind it more than it costs those already in the step (4 ms
        // each): the fifth would spare only itself 15 ms and cost the four 16 ms. 200-token prompts go one at a time.
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 3, promptTokens: 0, seconds: 0.015);
        budget.Observe(decodeSequences: 0, promptTokens: 100, seconds: 0.200);

        Assert.Equal(8, budget.Next(decodeSequences: 3, [2, 2, 2, 2, 2])); // a wave arriving: four of the five together
        Assert.Equal(200, budget.Next(decodeSequences: 3, [200, 200, 200])); // one at a time
        Assert.Equal(7, budget.Next(decodeSequences: 3, [2, 2])); // streams are the majority: keep steps short
        Assert.Equal(7, budget.Next(decodeSequences: 3));
    }

    [Fact]
    public void A_wave_of_prompts_goes_one_per_step_where_prompt_tokens_dominate_the_step()
    {
        // This 2-core CPU: a 48-token prompt takes ~75 ms, a decode-only step ~9 ms. Taking a second prompt into the
        // first step would delay the first by 75 ms to spare the other seven 9 ms each: not worth it.
        var cpu = new PrefillBudget(maxChunk: 512, factor: 2, maxSequences: 8);
        cpu.Observe(decodeSequences: 1, promptTokens: 0, seconds: 0.009);
        cpu.Observe(decodeSequences: 2, promptTokens: 0, seconds: 0.010);
        cpu.Observe(decodeSequences: 0, promptTokens: 48, seconds: 0.075);

        Assert.Equal(48, cpu.Next(0, [48, 48, 48, 48, 48, 48, 48, 48]));
        Assert.Equal(48, cpu.Next(1, [48, 48, 48, 48, 48, 48, 48]));
        Assert.Equal(48, cpu.Next(2, [48, 48, 48, 48, 48, 48]));
        Assert.Equal(512, cpu.Next(0, [2000, 48])); // a prompt longer than the chunk fills it
        Assert.Equal(512, cpu.Next(0, [30])); // alone: the full chunk, as always
    }

    [Fact]
    public void A_wave_of_prompts_goes_in_one_step_where_the_step_costs_about_the_same_whatever_it_carries()
    {
        // A GPU: a decode-only step 10 ms, a prompt token 20 µs. The wave goes in one step, up to the chunk.
        var gpu = new PrefillBudget(maxChunk: 512, factor: 2, maxSequences: 8);
        gpu.Observe(decodeSequences: 1, promptTokens: 0, seconds: 0.010);
        gpu.Observe(decodeSequences: 0, promptTokens: 500, seconds: 0.010);

        Assert.Equal(8 * 48, gpu.Next(0, [48, 48, 48, 48, 48, 48, 48, 48]));
        Assert.Equal(512, gpu.Next(0, [300, 300]));
    }

    [Fact]
    public void A_wave_before_a_prompt_token_is_measured_gets_the_full_chunk_and_before_the_decode_is_measured_measures_it()
    {
        var fresh = new PrefillBudget(maxChunk: 512, factor: 2, maxSequences: 8);
        Assert.Equal(512, fresh.Next(0, [48, 48, 48]));

        var noDecodeYet = new PrefillBudget(maxChunk: 512, factor: 2, maxSequences: 8);
        noDecodeYet.Observe(decodeSequences: 0, promptTokens: 48, seconds: 0.075);
        Assert.Equal(48, noDecodeYet.Next(0, [48, 48, 48])); // the first prompt alone; the next step measures its decode
        Assert.Equal(0, noDecodeYet.Next(1, [48, 48])); // a decode-only step to learn the fixed cost
        noDecodeYet.Observe(decodeSequences: 1, promptTokens: 0, seconds: 0.009);
        Assert.Equal(48, noDecodeYet.Next(1, [48, 48]));
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
    public void Unmeasured_batch_sizes_are_interpolated_between_measured_ones_or_measured_first()
    {
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 2, promptTokens: 0, seconds: 0.010);
        budget.Observe(decodeSequences: 0, promptTokens: 10, seconds: 0.010);

        Assert.Equal(0, budget.DecodeStepSeconds(5)); // nothing measured above 2: a smaller count's time would understate it
        Assert.Equal(0, budget.DecodeStepSeconds(1));
        Assert.Equal(0, budget.Next(5)); // measure first
        Assert.Equal(0, budget.Next(1));

        budget.Observe(decodeSequences: 8, promptTokens: 0, seconds: 0.040);
        Assert.Equal(0.025, budget.DecodeStepSeconds(5), 9); // halfway between 10 ms at 2 and 40 ms at 8
        Assert.Equal(25, budget.Next(5));
    }

    [Fact]
    public void A_step_with_a_handful_of_prompt_tokens_does_not_move_the_prompt_token_cost()
    {
        // 5 streams decode in 30 ms, a prompt token costs 1.5 ms. A 4-token step that happened to take 10 ms longer
        // would say 4 ms a token; it is noise, and chunks sized from it would only give more such samples.
        var budget = new PrefillBudget(maxChunk: 256, factor: 2, maxSequences: 8);
        budget.Observe(decodeSequences: 5, promptTokens: 0, seconds: 0.030);
        budget.Observe(decodeSequences: 0, promptTokens: 48, seconds: 0.072);
        for (var i = 0; i < PrefillBudget.PromptWindow; i++)
        {
            budget.Observe(decodeSequences: 5, promptTokens: 4, seconds: 0.046);
        }

        budget.Observe(decodeSequences: 5, promptTokens: 0, seconds: 0.030); // the periodic decode-only step
        Assert.Equal(0.0015, budget.SecondsPerPromptToken, 9);
        Assert.InRange(budget.Next(5), 19, 20); // 30 ms / 1.5 ms, give or take the last bit of a double

        budget.Observe(decodeSequences: 5, promptTokens: PrefillBudget.MinSampleTokens, seconds: 0.030 + (PrefillBudget.MinSampleTokens * 0.0015));
        Assert.Equal(0.0015, budget.SecondsPerPromptToken, 9);
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
            budget.Observe(decodeSequences: 8, promptTokens: 20, seconds: 0.040);
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
