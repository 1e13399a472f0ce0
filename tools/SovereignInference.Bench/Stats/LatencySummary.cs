namespace SovereignInference.Bench.Stats;

/// <summary>A latency distribution in milliseconds: exact mean, histogram percentiles (3 significant digits) and max.</summary>
internal sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P99, double Max);
