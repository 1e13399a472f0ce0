using System.Text.Json;
using SovereignInference.Bench.Cli;
using SovereignInference.Bench.InProcess;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Bench;

/// <summary>`sovereign-bench bench-engine`: real child processes over the tiny model, and the round/median arithmetic.</summary>
public sealed class BenchEngineCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Runs_every_measurement_per_round_in_its_own_process_and_writes_medians()
    {
        var json = _dir.File("engine.json");

        var (exit, output, error) = await CommandLineRunner.InvokeAsync(
            [BenchEngineCommand.Create()],
            "bench-engine", "--model", TestModels.Tiny().Path, "--concurrency", "1,2", "--prompt-tokens", "4", "--max-tokens", "4",
            "--requests-per-slot", "1", "--threads", "1", "--rounds", "2", "--json", json);

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var rows = report.RootElement.GetProperty("rows").EnumerateArray().ToList();
        var runs = rows.Select(r => (r.GetProperty("round").GetInt32(), r.GetProperty("name").GetString(), r.GetProperty("concurrency").GetInt32())).ToList();
        Assert.Equal(
            [(1, "plain LLamaSharp loop", 1), (1, "engine", 1), (1, "plain batched loop", 2), (1, "engine", 2),
             (2, "plain LLamaSharp loop", 1), (2, "engine", 1), (2, "plain batched loop", 2), (2, "engine", 2)],
            runs);
        foreach (var row in rows)
        {
            Assert.Equal(16 * 4, row.GetProperty("generated_tokens").GetInt32()); // 16 requests x 4 tokens, whatever the runner
            // The first token of each request comes from its prompt; the engine's decode phase also leaves out steps
            // where a prompt chunk rode along with the decodes.
            var decodeTokens = row.GetProperty("decode_tokens").GetInt32();
            if (row.GetProperty("name").GetString() == "engine")
            {
                Assert.InRange(decodeTokens, 1, 16 * 3);
            }
            else
            {
                Assert.Equal(16 * 3, decodeTokens);
            }
            Assert.True(row.GetProperty("tokens_per_second").GetDouble() > 0);
        }

        var summary = report.RootElement.GetProperty("summary").EnumerateArray().ToList();
        Assert.Equal(4, summary.Count);
        var engineAt2 = summary.Single(s => s.GetProperty("name").GetString() == "engine" && s.GetProperty("concurrency").GetInt32() == 2);
        Assert.Equal(2, engineAt2.GetProperty("rounds").GetInt32());
        Assert.True(engineAt2.GetProperty("vs_batched").GetDouble() > 0);
        Assert.Contains("vs llama.cpp loop at same concurrency", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ratios_are_taken_within_each_round_and_their_median_reported()
    {
        static EngineBenchmark.Row Row(string name, int concurrency, double seconds) =>
            new(name, concurrency, 16, 1000, TimeSpan.FromSeconds(seconds), 900, TimeSpan.FromSeconds(seconds / 2));

        // Round 2 ran on a machine twice as slow: per-round ratios are unaffected.
        var rows = new List<(int, EngineBenchmark.Row)>
        {
            (1, Row(EngineBenchmark.PlainName, 1, 10)), (1, Row(EngineBenchmark.EngineName, 1, 10.5)), (1, Row(EngineBenchmark.BatchedName, 8, 5)), (1, Row(EngineBenchmark.EngineName, 8, 5.5)),
            (2, Row(EngineBenchmark.PlainName, 1, 20)), (2, Row(EngineBenchmark.EngineName, 1, 21)), (2, Row(EngineBenchmark.BatchedName, 8, 10)), (2, Row(EngineBenchmark.EngineName, 8, 10)),
            (3, Row(EngineBenchmark.PlainName, 1, 10)), (3, Row(EngineBenchmark.EngineName, 1, 10)), (3, Row(EngineBenchmark.BatchedName, 8, 5)), (3, Row(EngineBenchmark.EngineName, 8, 6)),
        };

        var summaries = EngineBenchmark.Summarize(rows);

        var one = summaries.Single(s => s.Name == EngineBenchmark.EngineName && s.Concurrency == 1);
        Assert.Equal(3, one.Rounds);
        Assert.Equal(10 / 10.5, one.VsPlain, 9); // rounds give 0.952, 0.952, 1.0
        Assert.Equal(10 / 10.5, one.VsPlainMin, 9);
        Assert.Equal(1.0, one.VsPlainMax, 9);
        Assert.Equal(1000 / 10.5, one.TokensPerSecond, 9); // median of 1000/10.5, 1000/21, 1000/10
        var eight = summaries.Single(s => s.Name == EngineBenchmark.EngineName && s.Concurrency == 8);
        Assert.Equal(10.5 / 5.5, eight.VsEngineAtOne, 9); // rounds give 10.5/5.5 = 1.909, 21/10 = 2.1, 10/6 = 1.667
        Assert.Equal(5.0 / 5.5, eight.VsBatched!.Value, 9); // rounds give 0.909, 1.0, 0.833
        Assert.Equal(180, summaries.Single(s => s.Name == EngineBenchmark.PlainName).DecodeTokensPerSecond, 9); // 900 tokens / 5 s (median of 180, 90, 180)
    }
}
