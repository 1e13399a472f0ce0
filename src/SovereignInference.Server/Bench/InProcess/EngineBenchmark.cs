using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.LlamaCpp;
using SovereignInference.LlamaCpp.Benchmarks;
using SovereignInference.Server.Bench.Prompts;

namespace SovereignInference.Server.Bench.InProcess;

/// <summary>
/// In-process engine throughput at several concurrency levels, beside the plain single-sequence LLamaSharp
/// loop on the same model, prompts and thread count. Every figure of one run is measured in that run.
/// </summary>
public sealed class EngineBenchmark(string modelPath, int promptTokens, int maxTokens, int threads)
{
    // The same synthetic prompts `sovereign bench` sends over HTTP/gRPC (same words, same seed per level and
    // request), so in-process and server figures measure the same work.
    private readonly PromptSource _prompts = PromptSource.Synthetic(promptTokens, maxTokens, seed: 1);

    public sealed record Row(string Name, int Concurrency, int Requests, int GeneratedTokens, TimeSpan Elapsed)
    {
        public double TokensPerSecond => GeneratedTokens / Elapsed.TotalSeconds;
    }

    public Row RunPlainLoop(int requests)
    {
        var (generated, elapsed) = PlainDecodeLoop.Run(modelPath, Prompts(level: 1, requests), maxTokens, ContextSize, threads);
        return new Row("plain LLamaSharp loop", 1, requests, generated, elapsed);
    }

    /// <summary>llama.cpp's batched decode without the engine (<see cref="PlainDecodeLoop.RunBatched"/>): the ceiling for engine batching.</summary>
    public Row RunPlainBatched(int concurrency, int requests, bool unifiedKv = false)
    {
        var (generated, elapsed) = PlainDecodeLoop.RunBatched(modelPath, Prompts(concurrency, requests), maxTokens, ContextSize, threads, concurrency, unifiedKv);
        return new Row(unifiedKv ? "plain batched loop (unified KV)" : "plain batched loop", concurrency, requests, generated, elapsed);
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
        return new Row("engine", concurrency, requests, generated, Stopwatch.GetElapsedTime(started));
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
