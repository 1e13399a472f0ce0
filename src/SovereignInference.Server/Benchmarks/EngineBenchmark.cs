using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.LlamaCpp;
using SovereignInference.LlamaCpp.Benchmarks;

namespace SovereignInference.Server.Benchmarks;

/// <summary>
/// In-process engine throughput at several concurrency levels, beside the plain single-sequence LLamaSharp
/// loop on the same model, prompts and thread count. Every figure of one run is measured in that run.
/// </summary>
public sealed class EngineBenchmark(string modelPath, int promptTokens, int maxTokens, int threads)
{
    public sealed record Row(string Name, int Concurrency, int Requests, int GeneratedTokens, TimeSpan Elapsed)
    {
        public double TokensPerSecond => GeneratedTokens / Elapsed.TotalSeconds;
    }

    public Row RunPlainLoop(int requests)
    {
        var (generated, elapsed) = PlainDecodeLoop.Run(modelPath, Prompts(requests, seed: 1), maxTokens, promptTokens + maxTokens + 8, threads);
        return new Row("plain LLamaSharp loop", 1, requests, generated, elapsed);
    }

    public async Task<Row> RunEngineAsync(int concurrency, int requests)
    {
        var options = new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-bench-empty"),
            Model = [modelPath],
            Aliases = new() { [Path.GetFileName(modelPath)] = "bench" },
            Parallel = concurrency,
            CtxSize = promptTokens + maxTokens + 8,
            Threads = threads,
            DemoModelWhenEmpty = false,
        };
        await using var engine = new InferenceEngine(options, new LlamaBackend(), NullLoggerFactory.Instance);
        await engine.LoadAllAsync();
        if (!engine.IsReady)
        {
            throw new InvalidOperationException(engine.Models[0].Error);
        }

        var prompts = Prompts(requests, seed: 1);
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
                    PromptTokens = prompts[index],
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
        return new Row("engine", concurrency, requests, generated, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Distinct prompts (no shared prefix beyond BOS, so prefix reuse cannot flatter the engine).</summary>
    public List<int[]> Prompts(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var prompt = new int[promptTokens];
            prompt[0] = 1;
            for (var i = 1; i < prompt.Length; i++)
            {
                prompt[i] = random.Next(266, 400);
            }

            return prompt;
        }).ToList();
    }

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

    public static string Table(Row plain, IReadOnlyList<Row> rows)
    {
        var one = rows.FirstOrDefault(r => r.Concurrency == 1);
        var text = new StringBuilder();
        text.AppendLine("| run | concurrency | requests | generated tokens | seconds | generated tok/s | vs plain loop | vs engine at 1 |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in rows.Prepend(plain))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Concurrency} | {row.Requests} | {row.GeneratedTokens} | {row.Elapsed.TotalSeconds:0.00} | {row.TokensPerSecond:0.0} | {row.TokensPerSecond / plain.TokensPerSecond:0.00}x | {(one is null ? "" : (row.TokensPerSecond / one.TokensPerSecond).ToString("0.00", CultureInfo.InvariantCulture) + "x")} |");
        }

        return text.ToString();
    }
}
