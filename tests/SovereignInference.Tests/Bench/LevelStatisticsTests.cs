using System.Diagnostics;
using SovereignInference.Bench.Stats;
using SovereignInference.Bench.Targets;

namespace SovereignInference.Tests.Bench;

/// <summary>Aggregation of request traces into one concurrency level's throughput and latency figures.</summary>
public sealed class LevelStatisticsTests
{
    private static long Ms(double milliseconds) => (long)Math.Round(milliseconds * Stopwatch.Frequency / 1000.0);

    private static RequestTrace Trace(double start, double[] events, double end, int? usage = null)
    {
        var trace = new RequestTrace(Ms(start)) { UsageCompletionTokens = usage };
        foreach (var e in events)
        {
            trace.AddEvent(Ms(e));
        }

        trace.Complete(Ms(end));
        return trace;
    }

    private static void AssertNear(double expected, double? actual) => Assert.InRange(actual!.Value, expected * 0.999, expected * 1.001);

    [Fact]
    public void Throughput_latencies_and_per_stream_rate_of_two_requests()
    {
        // A: sent at 0, tokens at 10/20/30 ms, usage says 3. B: sent at 30, tokens at 45/50/55/60 ms, no usage (4 events).
        var traces = new[] { Trace(0, [10, 20, 30], 30, usage: 3), Trace(30, [45, 50, 55, 60], 60) };

        var level = LevelStatistics.From(1, traces, Ms(0), Ms(60));

        Assert.Equal((2, 2, 0), (level.Requests, level.Succeeded, level.Failed));
        Assert.Equal(7, level.OutputTokens);
        AssertNear(0.060, level.DurationSeconds);
        AssertNear(2 / 0.060, level.RequestsPerSecond);
        AssertNear(7 / 0.060, level.OutputTokensPerSecond);
        AssertNear((2 / 0.020 + 3 / 0.015) / 2, level.OutputTokensPerSecondPerStream); // decode rates 100 and 200 tok/s
        AssertNear(3.5, level.MeanOutputTokens);
        Assert.Null(level.MeanPromptTokens);

        Assert.Equal(2, level.TimeToFirstToken!.Count);
        AssertNear(12.5, level.TimeToFirstToken.Mean);
        AssertNear(15, level.TimeToFirstToken.Max);
        Assert.Equal(5, level.InterTokenLatency!.Count); // gaps 10, 10, 5, 5, 5
        AssertNear(7, level.InterTokenLatency.Mean);
        AssertNear(5, level.InterTokenLatency.P50);
        AssertNear(10, level.InterTokenLatency.P90);
        AssertNear(7.5, level.TimePerOutputToken!.Mean); // (30-10)/2 = 10 and (30-15)/3 = 5
        AssertNear(30, level.EndToEnd!.P50);
        Assert.Empty(level.Errors);
    }

    [Fact]
    public void Failed_requests_are_counted_by_status_and_left_out_of_throughput_and_latency()
    {
        var ok = Trace(0, [10, 20], 20, usage: 2);
        ok.UsagePromptTokens = 100;
        var overloaded = new RequestTrace(Ms(0));
        overloaded.Fail(Ms(1), BenchFailure.HttpStatus, "429", "queue full");
        var overloadedAgain = new RequestTrace(Ms(0));
        overloadedAgain.Fail(Ms(2), BenchFailure.HttpStatus, "429", "still full");
        var broken = new RequestTrace(Ms(0));
        broken.AddEvent(Ms(5));
        broken.Fail(Ms(6), BenchFailure.StreamError, null, "backend failed");

        var level = LevelStatistics.From(4, [ok, overloaded, overloadedAgain, broken], Ms(0), Ms(20));

        Assert.Equal((4, 1, 3), (level.Requests, level.Succeeded, level.Failed));
        Assert.Equal(new Dictionary<string, int> { ["http 429"] = 2, ["stream error"] = 1 }, level.Errors);
        Assert.Equal("queue full", level.ErrorMessages["http 429"]);
        Assert.Equal(2, level.OutputTokens);
        AssertNear(100, level.MeanPromptTokens);
        Assert.Equal(1, level.TimeToFirstToken!.Count);
        Assert.Equal(1, level.EndToEnd!.Count);
        AssertNear(1 / 0.020, level.RequestsPerSecond);
    }

    [Fact]
    public void A_level_where_everything_failed_has_no_latencies_and_zero_throughput()
    {
        var failed = new RequestTrace(Ms(0));
        failed.Fail(Ms(1), BenchFailure.Connection, null, "refused");

        var level = LevelStatistics.From(1, [failed], Ms(0), Ms(1));

        Assert.Equal(0, level.Succeeded);
        Assert.Equal(0, level.OutputTokensPerSecond);
        Assert.Null(level.OutputTokensPerSecondPerStream);
        Assert.Null(level.TimeToFirstToken);
        Assert.Null(level.EndToEnd);
        Assert.Equal(1, level.Errors["connection"]);
    }
}
