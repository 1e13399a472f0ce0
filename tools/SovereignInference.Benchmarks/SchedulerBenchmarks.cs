using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Benchmarks;

/// <summary>
/// The engine's own work per generated token, with the model taken out: the real <see cref="ModelScheduler"/> (admit,
/// plan the batch, prefill budget, commit, sample, publish to the request's channel, the caller reading it) over a
/// runner whose decode does nothing and whose logits rows are fixed random vectors. One operation = one scheduler step,
/// which gives every stream one token (prefill and start-up amortized over the 128 steps); divide by Streams for the
/// cost per token and compare it with a decode step's milliseconds. Greedy, ignore EOS.
/// </summary>
public class SchedulerBenchmarks
{
    private const int PromptTokens = 48;
    private const int GeneratedTokens = 128;
    private NullRunner _runner = null!;
    private ModelScheduler _scheduler = null!;

    [Params(1, 8)]
    public int Streams { get; set; }

    [Params(32_000, 131_072)]
    public int Vocab { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _runner = new NullRunner(Vocab, Streams);
        _scheduler = new ModelScheduler("bench", _runner, new NullTokenizer(Vocab), new SchedulerOptions(), NullLogger.Instance);
    }

    [GlobalCleanup]
    public void Cleanup() => _scheduler.Dispose();

    /// <summary>Streams requests of 48 prompt tokens and 128 generated tokens each, all at once, each read to its end.</summary>
    [Benchmark(OperationsPerInvoke = GeneratedTokens)]
    // ~80 B per token: the request's channel grows its queue in segments as tokens are written (segments are never
    // reused), plus each request's setup (request, channel, sampler, prompt) spread over its 128 tokens.
    [AllocationBudget(96, PerUnitOf = nameof(Streams))]
    public async Task<int> GenerateOneTokenPerStream()
    {
        var requests = new SequenceRequest[Streams];
        for (var s = 0; s < Streams; s++)
        {
            // Different prompts, so no request reuses another's cached prefix.
            var prompt = Enumerable.Range(0, PromptTokens).Select(i => 3 + ((i * 31) + (s * 977) + requests.Length) % (Vocab - 3)).ToArray();
            var request = new GenerationRequest { Model = "bench", IgnoreEos = true, Sampling = SamplingParams.Greedy };
            requests[s] = new SequenceRequest(request, prompt, GeneratedTokens, new TokenSampler(SamplingParams.Greedy, Vocab, prompt));
            _scheduler.Enqueue(requests[s]);
        }

        var tokens = 0;
        foreach (var request in requests)
        {
            await foreach (var e in request.Events.ReadAllAsync())
            {
                tokens += e.IsFinal ? 0 : 1;
            }
        }

        return tokens;
    }

    private sealed class NullRunner : IModelRunner
    {
        private readonly float[][] _rows;
        private int _step;

        public NullRunner(int vocab, int sequences)
        {
            VocabSize = vocab;
            MaxSequences = sequences;
            var random = new Random(7);
            _rows = new float[16][];
            for (var r = 0; r < _rows.Length; r++)
            {
                _rows[r] = new float[vocab];
                for (var i = 0; i < vocab; i++)
                {
                    _rows[r][i] = (float)((random.NextDouble() - 0.5) * 8);
                }
            }
        }

        public int VocabSize { get; }

        public int SequenceContextSize => 4096;

        public int MaxSequences { get; }

        public int MaxBatchTokens => 512;

        public void Decode(ReadOnlySpan<BatchToken> batch) => _step++;

        public ReadOnlySpan<float> GetLogits(int batchIndex) => _rows[(batchIndex + _step) & 15];

        public void TruncateSequence(int sequence, int fromPosition)
        {
        }

        public int SequenceLength(int sequence) => 0;

        public void Dispose()
        {
        }
    }

    private sealed class NullTokenizer(int vocab) : ITokenizer
    {
        public int VocabSize => vocab;

        public int BosToken => 1;

        public int EosToken => 2;

        public bool AddBosByDefault => true;

        public int[] Tokenize(string text, bool addBos, bool parseSpecial) => [1];

        public ReadOnlySpan<byte> GetPieceBytes(int token) => "x"u8;

        public string GetPieceText(int token) => "x";

        public bool IsEndOfGeneration(int token) => token == EosToken;
    }
}
