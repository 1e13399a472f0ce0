using SovereignInference.Bench.Stats;

namespace SovereignInference.Bench.Reporting;

/// <summary>The machine-readable result of a run (<c>--json FILE</c>), snake_case; latencies in milliseconds.</summary>
internal sealed record BenchReport(
    string Tool,
    int SchemaVersion,
    DateTimeOffset StartedAt,
    BenchReportTarget Target,
    BenchReportSettings Settings,
    IReadOnlyList<LevelStatistics> Levels);

/// <summary>What was measured.</summary>
internal sealed record BenchReportTarget(string Transport, string Endpoint, string Model);

/// <summary>How it was driven.</summary>
internal sealed record BenchReportSettings(
    IReadOnlyList<int> Concurrency,
    int RequestsPerLevel,
    int PromptTokens,
    string? PromptFile,
    int MaxTokens,
    bool Stream,
    bool IgnoreEos,
    long? Seed);
