using SovereignInference.Engine.Sampling;

namespace SovereignInference.Tests.Engine.Sampling;

/// <summary>
/// Greedy and top-k without logit bias, penalties and logprobs read the logits row in place (greedy: one max pass and
/// one search; top-k: selection from the row), and without bias or penalties the copying path reuses the maximum it
/// found while copying. A logit bias of 0 changes no logit but sends the same request down the general path (copy,
/// adjust, search the maximum again, then sample), so the two must agree token for token and log-probability for
/// log-probability, on any row, for any seed.
/// </summary>
public class TokenSamplerFastPathTests
{
    private static readonly Dictionary<int, float> NeutralBias = new() { [0] = 0f };

    public static TheoryData<string, SamplingParams> Settings() => new()
    {
        { "greedy", new SamplingParams { Temperature = 0f } },
        { "temperature 1", new SamplingParams() },
        { "temperature 0.7", new SamplingParams { Temperature = 0.7f } },
        { "top_k 1", new SamplingParams { TopK = 1 } },
        { "top_k 40 T 0.8", new SamplingParams { TopK = 40, Temperature = 0.8f } },
        { "top_k 40 top_p 0.95 min_p 0.05", new SamplingParams { TopK = 40, TopP = 0.95f, MinP = 0.05f } },
        { "top_p 0.9", new SamplingParams { TopP = 0.9f } },
        { "top_p 0.999 (large nucleus)", new SamplingParams { TopP = 0.999f, Temperature = 1.5f } },
        { "min_p 0.05", new SamplingParams { MinP = 0.05f } },
        { "top_p 0.9 min_p 0.1 T 1.3", new SamplingParams { TopP = 0.9f, MinP = 0.1f, Temperature = 1.3f } },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void In_place_sampling_matches_the_general_path(string name, SamplingParams settings)
    {
        foreach (var vocab in new[] { 7, 1000, 32_003 })
        {
            for (var seed = 0UL; seed < 40; seed++)
            {
                var random = new Random((int)seed * 7919 + vocab);
                // Half the seeds without logprobs (the in-place path where the setting allows it), half with.
                var logprobs = seed % 2 == 1;
                var p = settings with { Seed = seed, Logprobs = logprobs, TopLogprobs = logprobs ? (int)(seed % 4) * 5 : 0 };
                var fast = new TokenSampler(p, vocab, []);
                var general = new TokenSampler(p with { LogitBias = NeutralBias }, vocab, []);
                for (var step = 0; step < 6; step++)
                {
                    var logits = Row(random, vocab, step);
                    var a = fast.Sample(logits);
                    var b = general.Sample(logits);
                    Assert.True(a.Token == b.Token, $"{name}, vocab {vocab}, seed {seed}, step {step}: {a.Token} vs {b.Token}");
                    Assert.Equal(b.Logprob, a.Logprob);
                    Assert.Equal(b.TopLogprobs ?? [], a.TopLogprobs ?? []);
                }
            }
        }
    }

    [Fact]
    public void Greedy_in_place_is_the_first_largest_logit_on_rows_with_NaN_and_infinities()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 300; trial++)
        {
            var logits = Row(random, 4099, trial);
            var expected = 0;
            var best = float.NegativeInfinity;
            for (var i = 0; i < logits.Length; i++)
            {
                if (logits[i] > best)
                {
                    best = logits[i];
                    expected = i;
                }
            }

            Assert.Equal(expected, new TokenSampler(SamplingParams.Greedy, logits.Length, []).Sample(logits).Token);
        }
    }

    /// <summary>Random logits; some rows peaked, some flat, some with ties, NaN, -∞ and +∞ entries.</summary>
    private static float[] Row(Random random, int vocab, int step)
    {
        var scale = step % 3 == 0 ? 12.0 : 3.0;
        var logits = new float[vocab];
        for (var i = 0; i < vocab; i++)
        {
            logits[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        switch (step % 6)
        {
            case 1:
                logits[random.Next(vocab)] = float.NaN;
                logits[random.Next(vocab)] = float.NegativeInfinity;
                break;
            case 2:
                var tie = logits.Max();
                logits[random.Next(vocab)] = tie;
                break;
            case 3:
                for (var i = 0; i < vocab; i += 2)
                {
                    logits[i] = float.NegativeInfinity;
                }

                break;
            case 4:
                if (random.Next(4) == 0)
                {
                    logits[random.Next(vocab)] = float.PositiveInfinity;
                }

                break;
            case 5:
                if (random.Next(4) == 0)
                {
                    Array.Fill(logits, float.NaN);
                }

                break;
        }

        return logits;
    }
}
