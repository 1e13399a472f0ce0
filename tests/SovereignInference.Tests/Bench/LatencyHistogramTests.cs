using SovereignInference.Bench.Stats;

namespace SovereignInference.Tests.Bench;

/// <summary>Percentile math of the HdrHistogram-backed latency summary on known inputs.</summary>
public sealed class LatencyHistogramTests
{
    /// <summary>HdrHistogram with 3 significant digits: a percentile is within 0.1% of the order statistic.</summary>
    private static void AssertNear(double expected, double actual) => Assert.InRange(actual, expected * 0.999, expected * 1.001);

    [Fact]
    public void One_to_a_hundred_milliseconds_give_p50_50_p90_90_p99_99()
    {
        var histogram = new LatencyHistogram();
        foreach (var ms in Enumerable.Range(1, 100).Reverse())
        {
            histogram.Record(TimeSpan.FromMilliseconds(ms));
        }

        var summary = histogram.Summarize()!;

        Assert.Equal(100, summary.Count);
        Assert.Equal(50.5, summary.Mean, 6);
        AssertNear(50, summary.P50);
        AssertNear(90, summary.P90);
        AssertNear(99, summary.P99);
        AssertNear(100, summary.Max);
    }

    [Fact]
    public void Percentiles_keep_their_precision_across_magnitudes()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 98; i++)
        {
            histogram.Record(TimeSpan.FromMicroseconds(250));
        }

        histogram.Record(TimeSpan.FromSeconds(2));
        histogram.Record(TimeSpan.FromSeconds(30));

        var summary = histogram.Summarize()!;

        AssertNear(0.25, summary.P50);
        AssertNear(0.25, summary.P90);
        AssertNear(2000, summary.P99);
        AssertNear(30000, summary.Max);
        Assert.Equal((98 * 0.25 + 2000 + 30000) / 100, summary.Mean, 6);
    }

    [Fact]
    public void An_empty_histogram_has_no_summary()
    {
        Assert.Null(new LatencyHistogram().Summarize());
    }
}
