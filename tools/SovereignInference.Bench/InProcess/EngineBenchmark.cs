using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Bench.Prompts;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.LlamaCpp;
using SovereignInference.LlamaCpp.Benchmarks;

namespace SovereignInference.Bench.InProcess;

/// <summary>
/// In-process engine throughput at several concurrency levels, beside the plain single-sequence LLamaSharp
/// loop on the same model, prompts and thread count. Every figure of one run is measured in that run.
/// </summary>
public sealed class EngineBenchmark(string modelPath, int promptTokens, int maxTokens, int threads)
{
    // The same synthetic prompts `sovereign-bench bench` sends over HTTP/gRPC (same words, same seed per level and
    // request), so in-process and server figures measure the same work.
    private readonly PromptSource _prompts = PromptSource.Synthetic(promptTokens, maxTokens, seed: 1);

    /// <summary>One measurement. The decode phase counts only steps that fed no prompt tokens (llama-batched-bench's S_TG).</summary>
    public sealed record Row(string Name, int Concurrency, int Requests, int GeneratedTokens, TimeSpan Elapsed, int DecodeTokens, TimeSpan DecodeElapsed)
    {
        public double TokensPerSecond => GeneratedTokens / Elapsed.TotalSeconds;

        public double DecodeTokensPerSecond => DecodeElapsed > TimeSpan.Zero ? DecodeTokens / DecodeElapsed.TotalSeconds : 0;
    }

    public const string PlainName = "plain LLamaSharp loop";

    public const string BatchedName = "plain batched loop";

    public const string EngineName = "engine";

    public Row RunPlainLoop(int requests)
    {
        var run = PlainDecodeLoop.Run(modelPath, Prompts(level: 1, requests), maxTokens, ContextSize, threads);
        return new Row(PlainName, 1, requests, run.GeneratedTokens, run.Elapsed, run.DecodeTokens, run.DecodeElapsed);
    }

    /// <summary>llama.cpp's batched decode without the engine (<see cref="PlainDecodeLoop.RunBatched"/>): the ceiling for engine batching.</summary>
    public Row RunPlainBatched(int concurrency, int requests)
    {
        var run = PlainDecodeLoop.RunBatched(modelPath, Prompts(concurrency, requests), maxTokens, ContextSize, threads, concurrency);
        return new Row(BatchedName, concurrency, requests, run.GeneratedTokens, run.Elapsed, run.DecodeTokens, run.DecodeElapsed);
    }

    public async Task<Row> RunEngineAsync(int concurrency, int requests)
    {
        var options = new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-bench-empty"),
            Model = [modelPath],
            Aliases = new() { [Path.GetFileName(modelPath)] = "bench" },
            Parallel = concurrency,
            CtxSize = ContextSize,
            Threads = threads,
            DemoModelWhenEmpty = false,
        };
        await using var engine = new InferenceEngine(options, new LlamaBackend(), NullLoggerFactory.Instance);
        await engine.LoadAllAsync();
        if (!engine.IsReady)
        {
            throw new InvalidOperationException(engine.Models[0].Error);
        }

        var prompts = Prompts(concurrency, requests);
        var decodeTokens = 0;
        long decodeTicks = 0;
        void OnStep(Engine.Scheduling.StepRecord step)
        {
            if (step.PrefillTokens == 0)
            {
                decodeTokens += step.DecodeSequences;
                decodeTicks += step.Elapsed.Ticks;
            }
        }

        var scheduler = engine.GetReadyModel("bench").Scheduler!;
        scheduler.StepCompleted += OnStep;
        var next = -1;
        var generated = 0;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < prompts.Count)
            {
                var request = new GenerationRequest
                {
                    Model = "bench",
                    Prompt = prompts[index],
                    MaxTokens = maxTokens,
                    IgnoreEos = true,
                    Sampling = SamplingParams.Greedy,
                };
                await foreach (var update in engine.GenerateAsync(request))
                {
                    Interlocked.Add(ref generated, update.Tokens.Count);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        scheduler.StepCompleted -= OnStep;
        return new Row(EngineName, concurrency, requests, generated, elapsed, decodeTokens, TimeSpan.FromTicks(decodeTicks));
    }

    /// <summary>Room for a synthetic prompt (a word can take a few tokens) plus the output.</summary>
    private int ContextSize => (promptTokens * 4) + maxTokens + 16;

    /// <summary>The prompts of one concurrency level (distinct per request: no shared prefix for the cache to reuse).</summary>
    public List<string> Prompts(int level, int count) => Enumerable.Range(0, count).Select(i => _prompts.Get(level, i).Text).ToList();

    /// <summary>Peak resident set size of this process (VmHWM), in bytes; 0 where /proc is absent.</summary>
    public static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>
    /// Medians over rounds (each round measures every run once, in the same order, so slow phases of a noisy machine
    /// hit all runs of a round alike); ratios are taken within each round, then their median.
    /// </summary>
    public sealed record Summary(string Name, int Concurrency, int Requests, int Rounds, double TokensPerSecond, double DecodeTokensPerSecond, double VsPlain, double VsEngineAtOne, double? VsBatched, double VsPlainMin, double VsPlainMax);

    public static List<Summary> Summarize(IReadOnlyList<(int Round, Row Row)> rows)
    {
        var rounds = rows.GroupBy(r => r.Round).ToDictionary(g => g.Key, g => g.Select(r => r.Row).ToList());
        double? Ratio(int round, Row row, string name, int concurrency)
        {
            var other = rounds[round].FirstOrDefault(r => r.Name == name && r.Concurrency == concurrency);
            return other is null ? null : row.TokensPerSecond / other.TokensPerSecond;
        }

        return rows.GroupBy(r => (r.Row.Name, r.Row.Concurrency)).Select(g =>
        {
            var vsPlain = g.Select(r => Ratio(r.Round, r.Row, PlainName, 1)).OfType<double>().ToList();
            var vsOne = g.Select(r => Ratio(r.Round, r.Row, EngineName, 1)).OfType<double>().ToList();
            var vsBatched = g.Select(r => Ratio(r.Round, r.Row, r.Row.Concurrency == 1 ? PlainName : BatchedName, r.Row.Concurrency)).OfType<double>().ToList();
            return new Summary(
                g.Key.Name,
                g.Key.Concurrency,
                g.First().Row.Requests,
                g.Count(),
                Median(g.Select(r => r.Row.TokensPerSecond)),
                Median(g.Select(r => r.Row.DecodeTokensPerSecond)),
                Median(vsPlain),
                Median(vsOne),
                vsBatched.Count == 0 ? null : Median(vsBatched),
                vsPlain.Count == 0 ? double.NaN : vsPlain.Min(),
                vsPlain.Count == 0 ? double.NaN : vsPlain.Max());
        }).ToList();
    }

    public static string Table(IReadOnlyList<Summary> summaries)
    {
        var text = new StringBuilder();
        text.AppendLine("| run | concurrency | requests | rounds | generated tok/s | decode-phase tok/s | vs plain loop (min..max) | vs engine at 1 | vs llama.cpp loop at same concurrency |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var s in summaries)
        {
            var vsOne = s.Name == EngineName ? F(s.VsEngineAtOne) + "x" : string.Empty;
            var vsBatched = s.Name == EngineName && s.VsBatched is { } b ? F(b) + "x" : string.Empty;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {s.Name} | {s.Concurrency} | {s.Requests} | {s.Rounds} | {s.TokensPerSecond:0.0} | {s.DecodeTokensPerSecond:0.0} | {F(s.VsPlain)}x ({F(s.VsPlainMin)}..{F(s.VsPlainMax)}) | {vsOne} | {vsBatched} |");
        }

        return text.ToString();
    }

    private static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
