using SovereignInference.Bench.Prompts;
using SovereignInference.Bench.Reporting;
using SovereignInference.Bench.Targets;
using Spectre.Console;

namespace SovereignInference.Bench.Running;

/// <summary>
/// `sovereign-bench bench` from settings to report: prompts → target → runner (live progress) → tables on the console and
/// JSON to a file. Exit code 0 when every level had at least one successful request, 1 otherwise.
/// </summary>
internal static class BenchApplication
{
    public static async Task<int> RunAsync(BenchSettings settings, IAnsiConsole console, string? jsonPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        var prompts = settings.PromptFile is { } file
            ? PromptSource.FromText(await File.ReadAllTextAsync(file, cancellationToken), settings.MaxTokens)
            : PromptSource.Synthetic(settings.PromptTokens, settings.MaxTokens, settings.Seed ?? 1);
        await using var target = BenchTargets.Create(settings);
        console.MarkupLine(Markup.Escape(
            $"{target.Transport} {target.Endpoint} model {settings.Model}: {settings.Requests} requests per level, prompt {prompts.Description}, " +
            $"max_tokens {settings.MaxTokens}{(settings.IgnoreEos ? " (ignore_eos)" : string.Empty)}{(settings.Stream ? string.Empty : ", not streamed")}"));
        if (settings.Delay > TimeSpan.Zero)
        {
            await Task.Delay(settings.Delay, cancellationToken);
        }

        if (settings.WarmUp > 0)
        {
            var failed = await new BenchRunner(target, prompts).WarmUpAsync(settings.WarmUp, settings.Concurrency[0], cancellationToken);
            console.MarkupLine(Markup.Escape($"warm-up: {settings.WarmUp} requests over {Math.Min(settings.WarmUp, settings.Concurrency[0])} clients, {failed} failed (not counted)"));
        }

        var startedAt = DateTimeOffset.UtcNow;
        var runner = (IBenchProgress? progress) => new BenchRunner(target, prompts, progress).RunAsync(settings.Concurrency, settings.Requests, cancellationToken);
        var levels = await SpectreProgress.RunAsync(console, progress => runner(progress));

        console.Write(BenchTable.Throughput(levels));
        console.Write(BenchTable.Latency(levels));
        if (BenchTable.Errors(levels) is { } errors)
        {
            console.Write(errors);
        }

        if (jsonPath is not null)
        {
            var report = new BenchReport(
                "sovereign-bench bench",
                1,
                startedAt,
                new BenchReportTarget(target.Transport, target.Endpoint, settings.Model),
                new BenchReportSettings(settings.Concurrency, settings.Requests, settings.PromptFile is null ? settings.PromptTokens : 0, settings.PromptFile, settings.MaxTokens, settings.Stream, settings.IgnoreEos, settings.Seed),
                levels);
            await BenchJson.WriteAsync(jsonPath, report, cancellationToken);
            console.MarkupLine(Markup.Escape($"JSON written to {Path.GetFullPath(jsonPath)}"));
        }

        return levels.All(l => l.Succeeded > 0) ? 0 : 1;
    }
}
