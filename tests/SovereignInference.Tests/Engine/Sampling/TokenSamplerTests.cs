using SovereignInference.Engine.Sampling;
using Xunit.Abstractions;

namespace SovereignInference.Tests.Engine.Sampling;

public class TokenSamplerTests(ITestOutputHelper output)
{
    private static float[] LogitsFromProbs(params double[] probs) => [.. probs.Select(p => (float)Math.Log(p))];

    private static double[] LogSoftmax(ReadOnlySpan<float> logits, double temperature = 1)
    {
        var max = double.NegativeInfinity;
        foreach (var l in logits)
        {
            max = Math.Max(max, l);
        }

        double sum = 0;
        foreach (var l in logits)
        {
            sum += Math.Exp((l - max) / temperature);
        }

        var result = new double[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            result[i] = ((logits[i] - max) / temperature) - Math.Log(sum);
        }

        return result;
    }

    private static int[] Histogram(TokenSampler sampler, float[] logits, int draws)
    {
        var counts = new int[logits.Length];
        for (var i = 0; i < draws; i++)
        {
            counts[sampler.Sample(logits).Token]++;
        }

        return counts;
    }

    private static float[] RandomLogits(Random random, int vocab, double scale = 3)
    {
        var logits = new float[vocab];
        for (var i = 0; i < vocab; i++)
        {
            logits[i] = (float)(random.NextDouble() * scale * 2 - scale);
        }

        return logits;
    }

    // ---------- greedy ----------

    [Fact]
    public void Greedy_picks_the_argmax()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy, 5, []);
        Assert.Equal(3, sampler.Sample([0.1f, -2f, 1f, 4f, 3.99f]).Token);
    }

    [Fact]
    public void Greedy_breaks_ties_to_the_lowest_id()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy, 6, []);
        Assert.Equal(1, sampler.Sample([1f, 5f, 2f, 5f, 5f, float.NegativeInfinity]).Token);

        // Wide vocab so the vectorized path is exercised too.
        var logits = new float[4099];
        logits[4000] = 7f;
        logits[77] = 7f;
        logits[4098] = 7f;
        Assert.Equal(77, new TokenSampler(SamplingParams.Greedy, logits.Length, []).Sample(logits).Token);
    }

    [Fact]
    public void Greedy_does_not_consume_randomness_and_ignores_seed()
    {
        var random = new Random(3);
        var a = new TokenSampler(SamplingParams.Greedy with { Seed = 1 }, 300, []);
        var b = new TokenSampler(SamplingParams.Greedy with { Seed = 2 }, 300, []);
        for (var i = 0; i < 50; i++)
        {
            var logits = RandomLogits(random, 300);
            Assert.Equal(a.Sample(logits).Token, b.Sample(logits).Token);
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void All_negative_infinity_falls_back_to_the_raw_argmax(float temperature)
    {
        var logits = Enumerable.Repeat(float.NegativeInfinity, 100).ToArray();
        var sampler = new TokenSampler(new SamplingParams { Temperature = temperature, Seed = 1, Logprobs = true }, logits.Length, []);
        var result = sampler.Sample(logits);
        Assert.Equal(0, result.Token);
        Assert.Equal(TokenSampler.LogprobFloor, result.Logprob);
    }

    [Fact]
    public void Tokens_at_negative_infinity_or_NaN_are_never_drawn()
    {
        var logits = Enumerable.Repeat(float.NegativeInfinity, 1000).ToArray();
        logits[10] = 0f;
        logits[500] = 0f;
        logits[999] = 0f;
        logits[3] = float.NaN;
        logits[700] = float.NaN;
        var sampler = new TokenSampler(new SamplingParams { Seed = 9 }, logits.Length, []);
        var counts = Histogram(sampler, logits, 3000);
        Assert.Equal(3000, counts[10] + counts[500] + counts[999]);
        Assert.All([counts[10], counts[500], counts[999]], c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Sample_rejects_logits_of_the_wrong_length()
    {
        var sampler = new TokenSampler(new SamplingParams(), 10, []);
        Assert.Throws<ArgumentException>(() => sampler.Sample(new float[9]));
    }

    // ---------- determinism ----------

    private static int[] Run(ulong seed, SamplingParams p, int steps, int vocab, int logitsSeed, TokenSampler? interleaved = null)
    {
        var random = new Random(logitsSeed);
        var sampler = new TokenSampler(p with { Seed = seed }, vocab, [1, 2, 3]);
        var tokens = new int[steps];
        for (var i = 0; i < steps; i++)
        {
            var logits = RandomLogits(random, vocab);
            tokens[i] = sampler.Sample(logits).Token;
            interleaved?.Sample(RandomLogits(random, vocab));
        }

        return tokens;
    }

    public static TheoryData<SamplingParams> DeterminismParams() => new()
    {
        new SamplingParams(),
        new SamplingParams { Temperature = 0.7f, TopK = 40, TopP = 0.9f, MinP = 0.05f },
        new SamplingParams { Temperature = 1.3f, TopP = 0.8f, RepeatPenalty = 1.1f, FrequencyPenalty = 0.4f, PresencePenalty = 0.2f },
    };

    [Theory]
    [MemberData(nameof(DeterminismParams))]
    public void Same_seed_and_logits_give_the_same_200_tokens(SamplingParams p)
    {
        var first = Run(1234, p, 200, 2000, logitsSeed: 5);
        var second = Run(1234, p, 200, 2000, logitsSeed: 5);
        Assert.Equal(first, second);
        Assert.True(first.Distinct().Count() > 20, "the sequence should actually vary");
    }

    [Fact]
    public void Other_requests_in_the_batch_do_not_affect_a_seeded_sampler()
    {
        var p = new SamplingParams { Temperature = 0.9f, TopP = 0.95f };
        var alone = new TokenSampler(p with { Seed = 77 }, 500, []);
        var batched = new TokenSampler(p with { Seed = 77 }, 500, []);
        var neighbour = new TokenSampler(p with { Seed = 78 }, 500, []);
        var random = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var logits = RandomLogits(random, 500);
            neighbour.Sample(RandomLogits(random, 500));
            var expected = alone.Sample(logits).Token;
            neighbour.Sample(logits);
            Assert.Equal(expected, batched.Sample(logits).Token);
        }
    }

    [Fact]
    public void Different_seeds_give_different_sequences()
    {
        var p = new SamplingParams();
        var a = Run(1, p, 200, 2000, logitsSeed: 5);
        var b = Run(2, p, 200, 2000, logitsSeed: 5);
        Assert.NotEqual(a, b);
        Assert.True(a.Zip(b).Count(t => t.First != t.Second) > 150);
    }

    [Fact]
    public void Null_seed_picks_a_random_seed_per_sampler()
    {
        var a = new TokenSampler(new SamplingParams(), 10, []);
        var b = new TokenSampler(new SamplingParams(), 10, []);
        Assert.NotEqual(a.Seed, b.Seed);
        Assert.Equal(99UL, new TokenSampler(new SamplingParams { Seed = 99 }, 10, []).Seed);
    }

    // ---------- temperature ----------

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.5f)]
    [InlineData(1.7f)]
    public void Draws_follow_the_softmax_with_temperature(float temperature)
    {
        float[] logits = [0.5f, 2f, 1f, -1f, 1.5f, float.NegativeInfinity];
        var expected = LogSoftmax(logits, temperature).Select(Math.Exp).ToArray();
        var sampler = new TokenSampler(new SamplingParams { Temperature = temperature, Seed = 2024 }, logits.Length, []);
        const int draws = 20_000;
        var counts = Histogram(sampler, logits, draws);
        for (var i = 0; i < logits.Length; i++)
        {
            Assert.InRange((double)counts[i] / draws, expected[i] - 0.015, expected[i] + 0.015);
        }
    }

    [Fact]
    public void Lower_temperature_concentrates_the_distribution()
    {
        float[] logits = [1f, 1.5f, 2f, 0f];
        var cold = Histogram(new TokenSampler(new SamplingParams { Temperature = 0.1f, Seed = 1 }, 4, []), logits, 5000);
        var hot = Histogram(new TokenSampler(new SamplingParams { Temperature = 2f, Seed = 1 }, 4, []), logits, 5000);
        Assert.True(cold[2] > 4500);
        Assert.InRange(hot[2], 1500, 2500);
    }

    // ---------- truncation ----------

    [Fact]
    public void Top_k_keeps_only_the_k_best()
    {
        float[] logits = [1f, 3f, 2.9f, 0f, 2.95f, -5f];
        var counts = Histogram(new TokenSampler(new SamplingParams { TopK = 2, Temperature = 2f, Seed = 3 }, logits.Length, []), logits, 4000);
        Assert.Equal(4000, counts[1] + counts[4]);
        Assert.True(counts[1] > 1500 && counts[4] > 1500);
    }

    [Fact]
    public void Top_k_1_is_greedy_and_top_k_ties_go_to_the_lower_id()
    {
        float[] logits = [1f, 3f, 3f, 3f];
        var counts = Histogram(new TokenSampler(new SamplingParams { TopK = 2, Seed = 3 }, logits.Length, []), logits, 2000);
        Assert.Equal(0, counts[3] + counts[0]);
        Assert.True(counts[1] > 800 && counts[2] > 800);

        var random = new Random(4);
        var topOne = new TokenSampler(new SamplingParams { TopK = 1, Temperature = 2f, Seed = 3 }, 5000, []);
        for (var i = 0; i < 20; i++)
        {
            var l = RandomLogits(random, 5000);
            Assert.Equal(Array.IndexOf(l, l.Max()), topOne.Sample(l).Token);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Top_p_keeps_the_smallest_set_reaching_p(int topK)
    {
        var logits = LogitsFromProbs(0.5, 0.05, 0.3, 0.15);
        var sampler = new TokenSampler(new SamplingParams { TopP = 0.7f, TopK = topK, Seed = 5 }, logits.Length, []);
        var counts = Histogram(sampler, logits, 5000);
        Assert.Equal(0, counts[1] + counts[3]);

        // Renormalized over the nucleus {0, 2}: 0.5/0.8 and 0.3/0.8.
        Assert.InRange(counts[0] / 5000.0, 0.6, 0.65);
    }

    [Fact]
    public void Top_p_over_a_large_vocabulary_matches_an_independent_nucleus()
    {
        const int vocab = 50_000;
        var random = new Random(8);
        var logits = RandomLogits(random, vocab, scale: 4);
        var probs = LogSoftmax(logits).Select(Math.Exp).ToArray();
        var order = Enumerable.Range(0, vocab).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
        double cumulative = 0;
        var nucleusSize = 0;
        while (cumulative < 0.5)
        {
            cumulative += probs[order[nucleusSize++]];
        }

        Assert.True(nucleusSize > 500, "the test should exercise more than the first candidate batch");
        var allowed = order.Take(nucleusSize + 1).ToHashSet(); // +1: tolerate float rounding at the boundary
        var sampler = new TokenSampler(new SamplingParams { TopP = 0.5f, Seed = 12 }, vocab, []);
        var seen = new HashSet<int>();
        for (var i = 0; i < 2000; i++)
        {
            var token = sampler.Sample(logits).Token;
            Assert.Contains(token, allowed);
            seen.Add(token);
        }

        Assert.True(seen.Count > nucleusSize / 4);
    }

    [Fact]
    public void Top_p_ties_at_the_cut_go_to_the_lowest_ids()
    {
        var logits = new float[5000];
        var sampler = new TokenSampler(new SamplingParams { TopP = 0.5f, Seed = 3 }, logits.Length, []);
        var counts = Histogram(sampler, logits, 4000);
        Assert.Equal(-1, counts.AsSpan(2500).IndexOfAnyExcept(0));
        Assert.True(counts.AsSpan(2000, 500).IndexOfAnyExcept(0) >= 0);
    }

    [Fact]
    public void Large_nucleus_applies_min_p()
    {
        var logits = new float[4000];
        logits.AsSpan(1000).Fill(-1f);
        var withMinP = Histogram(new TokenSampler(new SamplingParams { TopP = 0.99f, MinP = 0.5f, Seed = 3 }, logits.Length, []), logits, 3000);
        Assert.Equal(-1, withMinP.AsSpan(1000).IndexOfAnyExcept(0));

        var withoutMinP = Histogram(new TokenSampler(new SamplingParams { TopP = 0.99f, Seed = 3 }, logits.Length, []), logits, 3000);
        var tail = withoutMinP.AsSpan(1000).ToArray().Sum();
        Assert.InRange(tail / 3000.0, 0.45, 0.6); // 3000 × e^-1 / (1000 + 3000 × e^-1) ≈ 0.52
    }

    [Theory]
    [InlineData(0, 1f)]
    [InlineData(3, 1f)]
    [InlineData(0, 0.99f)]
    public void Min_p_drops_tokens_below_the_fraction_of_the_best(int topK, float topP)
    {
        var logits = LogitsFromProbs(0.15, 0.5, 0.05, 0.3);

        // threshold 0.2 × 0.5 = 0.1: token 2 (0.05) goes.
        var counts = Histogram(new TokenSampler(new SamplingParams { MinP = 0.2f, TopK = topK, TopP = topP, Seed = 1 }, 4, []), logits, 4000);
        Assert.Equal(0, counts[2]);
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[3] > 0);

        // threshold 0.5 × 0.5 = 0.25: only tokens 1 and 3 survive.
        counts = Histogram(new TokenSampler(new SamplingParams { MinP = 0.5f, TopK = topK, TopP = topP, Seed = 1 }, 4, []), logits, 4000);
        Assert.Equal(0, counts[0] + counts[2]);
        Assert.InRange(counts[1] / 4000.0, 0.59, 0.66);

        // min_p = 1 keeps only the best.
        counts = Histogram(new TokenSampler(new SamplingParams { MinP = 1f, TopK = topK, TopP = topP, Seed = 1 }, 4, []), logits, 500);
        Assert.Equal(500, counts[1]);
    }

    // ---------- logit bias ----------

    [Fact]
    public void Logit_bias_minus_100_bans_a_token()
    {
        float[] logits = [1f, 5f, 4.5f, 0f];
        var bias = new Dictionary<int, float> { [1] = -100f };
        Assert.Equal(2, new TokenSampler(SamplingParams.Greedy with { LogitBias = bias }, 4, []).Sample(logits).Token);

        var counts = Histogram(new TokenSampler(new SamplingParams { LogitBias = bias, Seed = 4 }, 4, []), logits, 5000);
        Assert.Equal(0, counts[1]);
    }

    [Fact]
    public void Logit_bias_plus_100_forces_a_token()
    {
        var random = new Random(1);
        var sampler = new TokenSampler(new SamplingParams { LogitBias = new Dictionary<int, float> { [321] = 100f }, Seed = 4 }, 1000, []);
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(321, sampler.Sample(RandomLogits(random, 1000, scale: 10)).Token);
        }
    }

    // ---------- penalties ----------

    [Fact]
    public void Repeat_penalty_divides_positive_logits_of_prompt_tokens()
    {
        var p = SamplingParams.Greedy with { RepeatPenalty = 1.2f };
        Assert.Equal(1, new TokenSampler(p, 3, [0]).Sample([2f, 1.9f, 0f]).Token); // 2 / 1.2 = 1.67 < 1.9
        Assert.Equal(0, new TokenSampler(p, 3, [2]).Sample([2f, 1.9f, 0f]).Token);
    }

    [Fact]
    public void Repeat_penalty_multiplies_negative_logits()
    {
        var p = SamplingParams.Greedy with { RepeatPenalty = 1.2f };
        Assert.Equal(1, new TokenSampler(p, 2, [0]).Sample([-1f, -1.1f]).Token); // -1.2 < -1.1
    }

    [Fact]
    public void Repeat_penalty_counts_each_token_once_and_only_within_the_last_n()
    {
        var p = SamplingParams.Greedy with { RepeatPenalty = 1.2f, RepeatLastN = 2 };
        Assert.Equal(0, new TokenSampler(p, 3, [0, 1, 1]).Sample([2f, 1.9f, 0f]).Token); // token 0 fell out of the window
        Assert.Equal(1, new TokenSampler(p, 3, [1, 0, 0]).Sample([2f, 1.9f, 0f]).Token); // twice in window, penalized once

        var all = SamplingParams.Greedy with { RepeatPenalty = 1.2f, RepeatLastN = -1 };
        Assert.Equal(1, new TokenSampler(all, 3, [0, 2, 2, 2, 2, 2]).Sample([2f, 1.9f, 0f]).Token);

        var off = SamplingParams.Greedy with { RepeatPenalty = 1.2f, RepeatLastN = 0 };
        Assert.Equal(0, new TokenSampler(off, 3, [0]).Sample([2f, 1.9f, 0f]).Token);
    }

    [Fact]
    public void Repeat_penalty_window_slides_over_generated_tokens()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy with { RepeatPenalty = 1.2f, RepeatLastN = 2 }, 3, []);
        float[] logits = [2f, 1.9f, 1.8f];
        var tokens = Enumerable.Range(0, 6).Select(_ => sampler.Sample(logits).Token).ToArray();

        // 0; then 0 penalized -> 1; then 0 and 1 penalized -> 2; window {1,2} -> 0; window {2,0} -> 1; {0,1} -> 2.
        Assert.Equal([0, 1, 2, 0, 1, 2], tokens);
        Assert.Equal(6, sampler.GeneratedCount);
    }

    [Fact]
    public void Frequency_penalty_grows_with_count_over_generated_tokens_only()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy with { FrequencyPenalty = 0.5f }, 2, [0, 0, 0]);
        float[] logits = [2f, 1.8f];
        var tokens = Enumerable.Range(0, 4).Select(_ => sampler.Sample(logits).Token).ToArray();

        // prompt ignored -> 0; 2-0.5 < 1.8 -> 1; 1.5 > 1.3 -> 0; 1.0 < 1.3 -> 1.
        Assert.Equal([0, 1, 0, 1], tokens);
    }

    [Fact]
    public void Presence_penalty_is_flat_once_a_token_occurred()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy with { PresencePenalty = 0.3f }, 3, [0]);
        float[] logits = [2f, 1.8f, 1.6f];
        var tokens = Enumerable.Range(0, 4).Select(_ => sampler.Sample(logits).Token).ToArray();

        // 0; 1.7 < 1.8 -> 1; 1.7 > 1.5, 1.6 -> 0; still 1.7 (no growth) -> 0.
        Assert.Equal([0, 1, 0, 0], tokens);
    }

    [Fact]
    public void Negative_presence_penalty_encourages_repetition()
    {
        var sampler = new TokenSampler(SamplingParams.Greedy with { PresencePenalty = -1f }, 2, []);
        Assert.Equal(1, sampler.Sample([0f, 1f]).Token);
        Assert.Equal(1, sampler.Sample([1.5f, 1f]).Token); // 1 + 1 > 1.5
    }

    // ---------- logprobs ----------

    [Fact]
    public void Logprob_is_the_raw_log_softmax_of_the_chosen_token()
    {
        var random = new Random(21);
        var p = new SamplingParams
        {
            Temperature = 0.6f,
            TopK = 50,
            RepeatPenalty = 1.3f,
            FrequencyPenalty = 1f,
            LogitBias = new Dictionary<int, float> { [7] = 5f },
            Seed = 8,
            Logprobs = true,
        };
        var sampler = new TokenSampler(p, 3000, [7, 8, 9]);
        for (var i = 0; i < 50; i++)
        {
            var logits = RandomLogits(random, 3000, scale: 8);
            var expected = LogSoftmax(logits);
            var result = sampler.Sample(logits);
            Assert.Equal(expected[result.Token], result.Logprob, 1e-4);
            Assert.Null(result.TopLogprobs);
        }
    }

    [Fact]
    public void Top_logprobs_list_the_most_likely_raw_tokens_in_descending_order()
    {
        var random = new Random(22);
        var logits = RandomLogits(random, 10_000, scale: 6);
        logits[5] = 20f;
        logits[9000] = 20f; // tie: the lower id comes first
        var expected = LogSoftmax(logits);
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(20).ToArray();

        var p = new SamplingParams { Logprobs = true, TopLogprobs = 20, LogitBias = new Dictionary<int, float> { [5] = -100f }, Seed = 1 };
        var result = new TokenSampler(p, logits.Length, []).Sample(logits);

        Assert.NotEqual(5, result.Token);
        Assert.NotNull(result.TopLogprobs);
        Assert.Equal(order, result.TopLogprobs.Select(t => t.Token));
        Assert.Equal(5, result.TopLogprobs[0].Token);
        Assert.Equal(9000, result.TopLogprobs[1].Token);
        foreach (var entry in result.TopLogprobs)
        {
            Assert.Equal(expected[entry.Token], entry.Logprob, 1e-4);
        }

        for (var i = 1; i < result.TopLogprobs.Length; i++)
        {
            Assert.True(result.TopLogprobs[i - 1].Logprob >= result.TopLogprobs[i].Logprob);
        }
    }

    [Fact]
    public void Logprob_is_not_computed_unless_asked_for()
    {
        var logits = RandomLogits(new Random(23), 3000, scale: 8);
        var expected = LogSoftmax(logits);
        foreach (var temperature in new[] { 0f, 0.7f })
        {
            var without = new TokenSampler(new SamplingParams { Temperature = temperature, Seed = 3 }, logits.Length, []).Sample(logits);
            var with = new TokenSampler(new SamplingParams { Temperature = temperature, Seed = 3, Logprobs = true }, logits.Length, []).Sample(logits);
            Assert.True(float.IsNaN(without.Logprob));
            Assert.Equal(with.Token, without.Token);
            Assert.Equal(expected[with.Token], with.Logprob, 1e-4);
        }
    }

    [Fact]
    public void Top_logprobs_need_both_flags()
    {
        float[] logits = [1f, 2f, 3f];
        Assert.Null(new TokenSampler(new SamplingParams { TopLogprobs = 2 }, 3, []).Sample(logits).TopLogprobs);
        Assert.Null(new TokenSampler(new SamplingParams { Logprobs = true }, 3, []).Sample(logits).TopLogprobs);
        var top = new TokenSampler(new SamplingParams { Logprobs = true, TopLogprobs = 5 }, 3, []).Sample(logits).TopLogprobs;
        Assert.NotNull(top);
        Assert.Equal([2, 1, 0], top.Select(t => t.Token));
    }

    [Fact]
    public void Top_logprobs_skip_impossible_tokens_and_floor_is_applied()
    {
        float[] logits = [float.NegativeInfinity, 0f, float.NegativeInfinity, -200_000f];
        var result = new TokenSampler(new SamplingParams { Logprobs = true, TopLogprobs = 4, Seed = 1 }, 4, []).Sample(logits);
        Assert.Equal(1, result.Token);
        Assert.Equal(0f, result.Logprob);
        Assert.Equal([new TokenLogprob(1, 0f), new TokenLogprob(3, TokenSampler.LogprobFloor)], result.TopLogprobs!);
    }

    // ---------- performance ----------

    public static TheoryData<string, SamplingParams> PerfParams() => new()
    {
        { "default", new SamplingParams { Seed = 1 } },
        { "top_k 40 top_p 0.95 T 0.8", new SamplingParams { TopK = 40, TopP = 0.95f, Temperature = 0.8f, Seed = 1 } },
        { "top_p 0.9 min_p 0.05 + penalties", new SamplingParams { TopP = 0.9f, MinP = 0.05f, RepeatPenalty = 1.1f, FrequencyPenalty = 0.5f, Seed = 1 } },
        { "greedy", SamplingParams.Greedy },
    };

    [Theory]
    [MemberData(nameof(PerfParams))]
    public void Sampling_a_32k_vocabulary_allocates_nothing_per_call(string name, SamplingParams p)
    {
        const int vocab = 32_768;
        var random = new Random(5);
        var logits = RandomLogits(random, vocab, scale: 10);
        var prompt = Enumerable.Range(0, 500).Select(_ => random.Next(vocab)).ToArray();
        var sampler = new TokenSampler(p, vocab, prompt);

        // Tiered JIT (call counting, OSR, a background tier-1 compile that may finish late on a busy machine) can
        // allocate on this thread in any one round; an allocation per call shows in every round. So the steady
        // state is the quietest of several rounds. Speed is measured in the benchmark, never asserted here.
        const int iterations = 300;
        var rounds = new List<long>();
        for (var round = 0; round < 8; round++)
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < iterations; i++)
            {
                sampler.Sample(logits);
            }

            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
        }

        var allocated = rounds.Min();
        output.WriteLine($"{name}: {string.Join(", ", rounds)} bytes allocated per round of {iterations} calls");

        // Only the penalty dictionaries may grow (when a token is generated for the first time).
        var penalized = p.FrequencyPenalty != 0f || p.PresencePenalty != 0f || p.RepeatPenalty != 1f;
        Assert.True(penalized ? allocated < 32 * 1024 : allocated == 0, $"{allocated} bytes allocated in the quietest round: {string.Join(", ", rounds)}");
    }
}
