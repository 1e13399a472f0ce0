using System.Diagnostics;
using System.Text.Json;
using SovereignInference.Bench.Reporting;
using SovereignInference.Bench.Stats;
using SovereignInference.Bench.Targets;

namespace SovereignInference.Tests.Bench;

/// <summary>The --json report: the shape machines read.</summary>
public sealed class BenchJsonTests
{
    [Fact]
    public void The_report_is_snake_case_with_levels_latencies_in_ms_and_errors_by_status()
    {
        var ms = Stopwatch.Frequency / 1000;
        var ok = new RequestTrace(0) { UsageCompletionTokens = 2, UsagePromptTokens = 9 };
        ok.AddEvent(10 * ms);
        ok.AddEvent(20 * ms);
        ok.Complete(20 * ms);
        var failed = new RequestTrace(0);
        failed.Fail(ms, BenchFailure.HttpStatus, "404", "model 'x' not found");
        var level = LevelStatistics.From(2, [ok, failed], 0, 20 * ms);
        var report = new BenchReport(
            "sovereign-bench bench",
            1,
            DateTimeOffset.UnixEpoch,
            new BenchReportTarget("http", "http://127.0.0.1:8080/v1/completions", "m"),
            new BenchReportSettings([2], 2, 16, null, 2, true, true, 7),
            [level]);

        using var json = JsonDocument.Parse(BenchJson.Serialize(report));
        var root = json.RootElement;

        Assert.Equal("sovereign-bench bench", root.GetProperty("tool").GetString());
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal("http", root.GetProperty("target").GetProperty("transport").GetString());
        Assert.Equal(7, root.GetProperty("settings").GetProperty("seed").GetInt64());
        Assert.Equal(16, root.GetProperty("settings").GetProperty("prompt_tokens").GetInt32());
        var levelJson = Assert.Single(root.GetProperty("levels").EnumerateArray());
        Assert.Equal(2, levelJson.GetProperty("concurrency").GetInt32());
        Assert.Equal(1, levelJson.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, levelJson.GetProperty("errors").GetProperty("http 404").GetInt32());
        Assert.Equal("model 'x' not found", levelJson.GetProperty("error_messages").GetProperty("http 404").GetString());
        Assert.Equal(2, levelJson.GetProperty("output_tokens").GetInt64());
        Assert.Equal(100.0, levelJson.GetProperty("output_tokens_per_second").GetDouble(), 3);
        Assert.Equal(100.0, levelJson.GetProperty("output_tokens_per_second_per_stream").GetDouble(), 3);
        Assert.Equal(9.0, levelJson.GetProperty("mean_prompt_tokens").GetDouble());
        foreach (var name in new[] { "ttft_ms", "itl_ms", "tpot_ms", "e2e_ms" })
        {
            var summary = levelJson.GetProperty(name);
            foreach (var field in new[] { "count", "mean", "p50", "p90", "p99", "max" })
            {
                Assert.Equal(JsonValueKind.Number, summary.GetProperty(field).ValueKind);
            }
        }

        Assert.Equal(10.0, levelJson.GetProperty("ttft_ms").GetProperty("p50").GetDouble(), 1);
        Assert.Equal(20.0, levelJson.GetProperty("e2e_ms").GetProperty("mean").GetDouble(), 1);
    }
}
