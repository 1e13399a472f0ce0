using HdrHistogram;

namespace SovereignInference.Bench.Stats;

/// <summary>
/// Latencies in an HdrHistogram at microsecond resolution with 3 significant digits (values up to one hour), so
/// percentiles are within 0.1% of the true order statistic whatever the spread. The mean is kept exactly, outside the
/// histogram.
/// </summary>
internal sealed class LatencyHistogram
{
    private const long HighestMicroseconds = 3_600_000_000;
    private readonly LongHistogram _histogram = new(HighestMicroseconds, 3);
    private double _sumMicroseconds;

    public long Count => _histogram.TotalCount;

    public void Record(TimeSpan latency)
    {
        var microseconds = Math.Clamp((long)Math.Round(latency.TotalMicroseconds), 0, HighestMicroseconds);
        _histogram.RecordValue(microseconds);
        _sumMicroseconds += microseconds;
    }

    /// <summary>Count, mean, p50, p90, p99 and max in milliseconds; null when nothing was recorded.</summary>
    public LatencySummary? Summarize()
    {
        if (Count == 0)
        {
            return null;
        }

        return new LatencySummary(
            Count,
            _sumMicroseconds / Count / 1000.0,
            Milliseconds(50),
            Milliseconds(90),
            Milliseconds(99),
            _histogram.GetMaxValue() / 1000.0);
    }

    private double Milliseconds(double percentile) => _histogram.GetValueAtPercentile(percentile) / 1000.0;
}
