using System.CommandLine;
using System.Globalization;
using SovereignInference.Gguf;
using SovereignInference.Server.Bench.InProcess;

namespace SovereignInference.Server.Cli;

/// <summary>`sovereign bench-engine`: in-process engine throughput vs the plain LLamaSharp loop (docs/performance.md).</summary>
internal static class BenchEngineCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF to measure (default: generate the bench100m preset into ./models/bench/)." };
        var concurrency = new Option<string>("--concurrency") { Description = "Comma-separated levels.", DefaultValueFactory = _ => "1,4,8,16" };
        var promptTokens = new Option<int>("--prompt-tokens") { DefaultValueFactory = _ => 64 };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 32 };
        var requestsPerSlot = new Option<int>("--requests-per-slot") { Description = "Requests per concurrency level = max(16, this × level).", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file." };
        var command = new Command("bench-engine", "Measure the in-process engine against a plain single-sequence LLamaSharp loop.")
        {
            model, concurrency, promptTokens, maxTokens, requestsPerSlot, threads, json,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(model);
            if (path is null)
            {
                path = Path.GetFullPath("models/bench/sovereign-bench100m.gguf");
                if (!File.Exists(path))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    TestModelGenerator.WritePreset(path, "bench100m");
                }
            }

            var info = GgufModelInfo.Read(path);
            Console.WriteLine($"model: {path} ({info.Architecture}, {GgufModelInfoFormatter.FormatCount(info.ParameterCount)} parameters, {info.Quantization}); threads {result.GetValue(threads)}; {Environment.ProcessorCount} cores");
            var bench = new EngineBenchmark(path, result.GetValue(promptTokens), result.GetValue(maxTokens), result.GetValue(threads));
            var levels = result.GetValue(concurrency)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

            var plain = bench.RunPlainLoop(16);
            Console.WriteLine($"plain loop: {plain.TokensPerSecond:0.0} tok/s");
            var rows = new List<EngineBenchmark.Row>();
            foreach (var level in levels)
            {
                var row = await bench.RunEngineAsync(level, Math.Max(16, result.GetValue(requestsPerSlot) * level));
                Console.WriteLine($"engine x{level}: {row.TokensPerSecond:0.0} tok/s");
                rows.Add(row);
            }

            Console.WriteLine();
            Console.WriteLine(EngineBenchmark.Table(plain, rows));
            var peakRss = EngineBenchmark.PeakRssBytes();
            Console.WriteLine($"peak RSS: {peakRss / (1024.0 * 1024.0):0} MiB");
            if (result.GetValue(json) is { } jsonPath)
            {
                var document = new
                {
                    model = path,
                    parameters = info.ParameterCount,
                    quantization = info.Quantization,
                    threads = result.GetValue(threads),
                    prompt_words = result.GetValue(promptTokens),
                    max_tokens = result.GetValue(maxTokens),
                    peak_rss_bytes = peakRss,
                    rows = rows.Prepend(plain).Select(r => new { name = r.Name, concurrency = r.Concurrency, requests = r.Requests, generated_tokens = r.GeneratedTokens, seconds = r.Elapsed.TotalSeconds, tokens_per_second = r.TokensPerSecond }),
                };
                await File.WriteAllTextAsync(jsonPath, System.Text.Json.JsonSerializer.Serialize(document), cancellationToken);
            }
            return 0;
        });
        return command;
    }
}
