using System.CommandLine;
using System.Globalization;
using SovereignInference.Bench.InProcess;
using SovereignInference.Gguf;

namespace SovereignInference.Bench.Cli;

/// <summary>`sovereign-bench bench-engine`: in-process engine throughput vs the plain LLamaSharp loop (docs/performance.md).</summary>
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
        var rounds = new Option<int>("--rounds") { Description = "Measure every run this many times, interleaved; the table gives medians (this machine's noise is larger than the effects measured).", DefaultValueFactory = _ => 3 };
        var measure = new Option<string?>("--measure") { Description = "Internal: run one measurement (plain, batched:C or engine:C) in this process and print it.", Hidden = true };
        var command = new Command("bench-engine", "Measure the in-process engine against a plain single-sequence LLamaSharp loop.")
        {
            model, concurrency, promptTokens, maxTokens, requestsPerSlot, threads, json, rounds, measure,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(model);
            if (path is null)
            {
                // The generator version is in the name so a stale file from an older generator is never measured.
                path = Path.GetFullPath($"models/bench/sovereign-bench100m-g{TestModels.GeneratorVersion}.gguf");
                if (!File.Exists(path))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    TestModelGenerator.WritePreset(path, "bench100m");
                }
            }

            // The same model validation the server applies: a file that would abort llama.cpp is refused here too.
            var info = GgufModelInfo.From(GgufReader.ReadModel(path), path, computeSha256: false);
            Console.WriteLine($"model: {path} ({info.Architecture}, {GgufModelInfoFormatter.FormatCount(info.ParameterCount)} parameters, {info.Quantization}); threads {result.GetValue(threads)}; {Environment.ProcessorCount} cores");
            var bench = new EngineBenchmark(path, result.GetValue(promptTokens), result.GetValue(maxTokens), result.GetValue(threads));
            var levels = result.GetValue(concurrency)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

            if (result.GetValue(measure) is { } one)
            {
                // Child process: one measurement, reported on one line the parent reads.
                var (kind, level) = one.Split(':') is [var k, var c] ? (k, int.Parse(c, CultureInfo.InvariantCulture)) : (one, 1);
                var requests = Math.Max(16, result.GetValue(requestsPerSlot) * level);
                var measured = kind switch
                {
                    "plain" => bench.RunPlainLoop(16),
                    "batched" => bench.RunPlainBatched(level, requests),
                    _ => await bench.RunEngineAsync(level, requests),
                };
                Console.WriteLine(FormattableString.Invariant($"{RowPrefix}{measured.Name}|{measured.Concurrency}|{measured.Requests}|{measured.GeneratedTokens}|{measured.Elapsed.Ticks}|{measured.DecodeTokens}|{measured.DecodeElapsed.Ticks}|{EngineBenchmark.PeakRssBytes()}"));
                return 0;
            }

            // Every measurement runs in a fresh process of its own: two llama.cpp contexts driven from two threads of
            // one process (each with its own OpenMP team) slow each other down, which would skew the comparison.
            var childArgs = new List<string> { "bench-engine", "--model", path, "--prompt-tokens", $"{result.GetValue(promptTokens)}", "--max-tokens", $"{result.GetValue(maxTokens)}", "--requests-per-slot", $"{result.GetValue(requestsPerSlot)}", "--threads", $"{result.GetValue(threads)}" };
            long peakRss = 0;
            async Task<EngineBenchmark.Row> Child(string what)
            {
                var (row, rss) = await RunChildAsync([.. childArgs, "--measure", what], cancellationToken);
                peakRss = Math.Max(peakRss, rss);
                return row;
            }

            // Each round: the plain loop, then per level llama.cpp's own batched loop (levels above 1) and the engine.
            var rows = new List<(int Round, EngineBenchmark.Row Row)>();
            var roundCount = Math.Max(1, result.GetValue(rounds));
            for (var round = 1; round <= roundCount; round++)
            {
                var plain = await Child("plain");
                Console.WriteLine($"round {round}: plain loop {plain.TokensPerSecond:0.0} tok/s");
                rows.Add((round, plain));
                foreach (var level in levels)
                {
                    if (level > 1)
                    {
                        var batched = await Child($"batched:{level}");
                        Console.WriteLine($"round {round}: plain batched loop x{level} {batched.TokensPerSecond:0.0} tok/s");
                        rows.Add((round, batched));
                    }

                    var row = await Child($"engine:{level}");
                    Console.WriteLine($"round {round}: engine x{level} {row.TokensPerSecond:0.0} tok/s (decode phase {row.DecodeTokensPerSecond:0.0})");
                    rows.Add((round, row));
                }
            }

            var summaries = EngineBenchmark.Summarize(rows);
            Console.WriteLine();
            Console.WriteLine(EngineBenchmark.Table(summaries));
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
                    rounds = roundCount,
                    peak_rss_bytes = peakRss,
                    rows = rows.Select(r => new { round = r.Round, name = r.Row.Name, concurrency = r.Row.Concurrency, requests = r.Row.Requests, generated_tokens = r.Row.GeneratedTokens, seconds = r.Row.Elapsed.TotalSeconds, tokens_per_second = r.Row.TokensPerSecond, decode_tokens = r.Row.DecodeTokens, decode_seconds = r.Row.DecodeElapsed.TotalSeconds, decode_tokens_per_second = r.Row.DecodeTokensPerSecond }),
                    summary = summaries.Select(x => new { name = x.Name, concurrency = x.Concurrency, requests = x.Requests, rounds = x.Rounds, tokens_per_second = x.TokensPerSecond, decode_tokens_per_second = x.DecodeTokensPerSecond, vs_plain = x.VsPlain, vs_plain_min = x.VsPlainMin, vs_plain_max = x.VsPlainMax, vs_engine_at_1 = x.VsEngineAtOne, vs_batched = x.VsBatched }),
                };
                await File.WriteAllTextAsync(jsonPath, System.Text.Json.JsonSerializer.Serialize(document), cancellationToken);
            }

            return 0;
        });
        return command;
    }

    private const string RowPrefix = "BENCH-ROW ";

    private static async Task<(EngineBenchmark.Row Row, long PeakRss)> RunChildAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            info.ArgumentList.Add(typeof(BenchEngineCommand).Assembly.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(RowPrefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"bench-engine child {string.Join(' ', args)} exited {process.ExitCode} without a result:\n{output}");
        var f = line[RowPrefix.Length..].Trim().Split('|');
        int Int(int i) => int.Parse(f[i], CultureInfo.InvariantCulture);
        TimeSpan Ticks(int i) => TimeSpan.FromTicks(long.Parse(f[i], CultureInfo.InvariantCulture));
        var row = new EngineBenchmark.Row(f[0], Int(1), Int(2), Int(3), Ticks(4), Int(5), Ticks(6));
        return (row, long.Parse(f[7], CultureInfo.InvariantCulture));
    }
}
