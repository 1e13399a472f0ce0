using System.Globalization;
using SovereignInference.Bench.Stats;
using Spectre.Console;

namespace SovereignInference.Bench.Reporting;

/// <summary>The end-of-run tables: throughput per concurrency level, then latency distributions, then errors.</summary>
internal static class BenchTable
{
    public static Table Throughput(IReadOnlyList<LevelStatistics> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var table = new Table().Title("Throughput").RoundedBorder();
        table.AddColumn("conc");
        foreach (var name in new[] { "ok", "errors", "req/s", "out tok/s", "tok/s/stream", "prompt tok", "out tok", "duration s" })
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        foreach (var level in levels)
        {
            table.AddRow(
                Number(level.Concurrency),
                Number(level.Succeeded),
                level.Failed == 0 ? "0" : $"[red]{level.Failed}[/]",
                Fixed(level.RequestsPerSecond, 2),
                Fixed(level.OutputTokensPerSecond, 1),
                Fixed(level.OutputTokensPerSecondPerStream, 1),
                Fixed(level.MeanPromptTokens, 0),
                Fixed(level.MeanOutputTokens, 1),
                Fixed(level.DurationSeconds, 2));
        }

        return table;
    }

    public static Table Latency(IReadOnlyList<LevelStatistics> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var table = new Table().Title("Latency (ms)").RoundedBorder();
        table.AddColumn("conc");
        table.AddColumn("metric");
        foreach (var name in new[] { "mean", "p50", "p90", "p99", "max", "n" })
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        foreach (var level in levels)
        {
            foreach (var (name, summary) in new[]
            {
                ("TTFT", level.TimeToFirstToken),
                ("ITL", level.InterTokenLatency),
                ("TPOT", level.TimePerOutputToken),
                ("E2E", level.EndToEnd),
            })
            {
                table.AddRow(
                    Number(level.Concurrency),
                    name,
                    Fixed(summary?.Mean, 2),
                    Fixed(summary?.P50, 2),
                    Fixed(summary?.P90, 2),
                    Fixed(summary?.P99, 2),
                    Fixed(summary?.Max, 2),
                    summary is null ? "0" : Number(summary.Count));
            }
        }

        return table;
    }

    /// <summary>Errors by status and a sample message; null when every request succeeded.</summary>
    public static Table? Errors(IReadOnlyList<LevelStatistics> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.All(l => l.Failed == 0))
        {
            return null;
        }

        var table = new Table().Title("Errors").RoundedBorder();
        table.AddColumn("conc");
        table.AddColumn("status");
        table.AddColumn(new TableColumn("count").RightAligned());
        table.AddColumn("first message");
        foreach (var level in levels)
        {
            foreach (var (key, count) in level.Errors)
            {
                table.AddRow(Number(level.Concurrency), Markup.Escape(key), Number(count), Markup.Escape(level.ErrorMessages.GetValueOrDefault(key) ?? string.Empty));
            }
        }

        return table;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Fixed(double? value, int decimals) =>
        value is { } v ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";
}
