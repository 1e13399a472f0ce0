using BenchmarkDotNet.Attributes;
using SovereignInference.Engine.Sampling;

namespace SovereignInference.Benchmarks;

/// <summary>
/// One <see cref="TokenSampler.Sample(ReadOnlySpan{float})"/> call per operation, on a 32k (Llama 2 / Mistral 7B
/// v0.1) and a 131k (Mistral Nemo / Tekken) vocabulary. The rows cycle through 16 random logit vectors with a few
/// strong candidates, as a trained model's are.
/// </summary>
public class SamplerBenchmarks
{
    private float[][] _rows = [];
    private TokenSampler _sampler = null!;
    private TokenSampler _logprobSampler = null!;
    private int _next;

    [Params(32_000, 131_072)]
    public int Vocab { get; set; }

    [Params("greedy", "top-k 40 T 0.8", "top-p 0.9", "min-p 0.05", "T 1 full vocab", "top-k 40 top-p 0.95 + repeat penalty")]
    public string Setting { get; set; } = "greedy";

    public static SamplingParams Settings(string name) => name switch
    {
        "greedy" => SamplingParams.Greedy,
        "top-k 40 T 0.8" => new SamplingParams { TopK = 40, Temperature = 0.8f, Seed = 1 },
        "top-p 0.9" => new SamplingParams { TopP = 0.9f, Seed = 1 },
        "min-p 0.05" => new SamplingParams { MinP = 0.05f, Seed = 1 },
        "T 1 full vocab" => new SamplingParams { Seed = 1 },
        "top-k 40 top-p 0.95 + repeat penalty" => new SamplingParams { TopK = 40, TopP = 0.95f, RepeatPenalty = 1.1f, RepeatLastN = 64, Seed = 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown setting"),
    };

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _rows = new float[16][];
        for (var r = 0; r < _rows.Length; r++)
        {
            var row = new float[Vocab];
            for (var i = 0; i < row.Length; i++)
            {
                // Roughly normal logits (sum of uniforms), sd ~2, plus a handful of clear favourites.
                row[i] = (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 4);
            }

            for (var k = 0; k < 5; k++)
            {
                row[random.Next(Vocab)] = 12f + (float)random.NextDouble() * 4f;
            }

            _rows[r] = row;
        }

        var prompt = Enumerable.Range(0, 200).Select(_ => random.Next(Vocab)).ToArray();
        var settings = Settings(Setting);
        _sampler = new TokenSampler(settings, Vocab, prompt);
        _logprobSampler = new TokenSampler(settings with { Logprobs = true, TopLogprobs = 5 }, Vocab, prompt);
    }

    /// <summary>One token, no logprobs asked for (the common request).</summary>
    [Benchmark]
    [AllocationBudget(0)]
    public int Sample() => _sampler.Sample(_rows[_next++ & 15]).Token;

    /// <summary>One token with its log-probability and the 5 most likely alternatives (the array returned is the one allocation).</summary>
    [Benchmark]
    [AllocationBudget(64)]
    public int SampleWithTop5Logprobs() => _logprobSampler.Sample(_rows[_next++ & 15]).Token;
}
