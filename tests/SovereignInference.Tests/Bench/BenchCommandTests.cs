using System.Text.Json;
using SovereignInference.Bench.Cli;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Bench;

/// <summary>`sovereign-bench bench` through System.CommandLine, against the real server (Kestrel, llama.cpp, scripted model).</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Task<(int ExitCode, string Out, string Error)> InvokeAsync(params string[] args) =>
        CommandLineRunner.InvokeAsync([BenchCommand.Create()], ["bench", .. args]);

    /// <summary>A prompt whose last token is "▁loop": the scripted model then says " a b a b ..." forever.</summary>
    private string LoopPromptFile()
    {
        var path = _dir.File("loop.txt");
        File.WriteAllText(path, "hello loop");
        return path;
    }

    [Fact]
    public async Task Bench_streams_fixed_length_completions_at_each_concurrency_level_and_writes_json()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("out/bench.json");

        var (exit, output, error) = await InvokeAsync(
            "--url", server.HttpBase.ToString(), "--model", "scripted", "--concurrency", "1,2", "--requests", "4",
            "--max-tokens", "8", "--prompt-file", LoopPromptFile(), "--json", json, "--seed", "3");

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("Throughput", output, StringComparison.Ordinal);
        Assert.Contains("TTFT", output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var levels = report.RootElement.GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal(new[] { 1, 2 }, levels.Select(l => l.GetProperty("concurrency").GetInt32()));
        foreach (var level in levels)
        {
            Assert.Equal(4, level.GetProperty("succeeded").GetInt32());
            Assert.Equal(0, level.GetProperty("failed").GetInt32());
            Assert.Empty(level.GetProperty("errors").EnumerateObject());
            Assert.Equal(32, level.GetProperty("output_tokens").GetInt64()); // ignore_eos: exactly max_tokens each
            Assert.Equal(8.0, level.GetProperty("mean_output_tokens").GetDouble());
            Assert.True(level.GetProperty("mean_prompt_tokens").GetDouble() >= 2);
            Assert.True(level.GetProperty("output_tokens_per_second").GetDouble() > 0);
            Assert.Equal(4, level.GetProperty("ttft_ms").GetProperty("count").GetInt64());
            Assert.Equal(4, level.GetProperty("e2e_ms").GetProperty("count").GetInt64());
            var gaps = level.GetProperty("itl_ms").GetProperty("count").GetInt64();
            Assert.InRange(gaps, 4, 4 * 7); // tokens arrive as separate events, at most one gap per token after the first
            var ttft = level.GetProperty("ttft_ms").GetProperty("max").GetDouble();
            var e2e = level.GetProperty("e2e_ms").GetProperty("max").GetDouble();
            Assert.True(ttft <= e2e * 1.001, $"ttft {ttft} > e2e {e2e}");
        }

        Assert.Equal("http", report.RootElement.GetProperty("target").GetProperty("transport").GetString());
    }

    [Fact]
    public async Task Synthetic_prompts_reach_about_the_requested_length()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("bench.json");

        var (exit, output, _) = await InvokeAsync(
            "--url", server.HttpBase.ToString().TrimEnd('/') + "/v1", "--model", "scripted", "--concurrency", "2", "--requests", "2",
            "--prompt-tokens", "40", "--max-tokens", "4", "--json", json);

        Assert.True(exit == 0, output);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var level = Assert.Single(report.RootElement.GetProperty("levels").EnumerateArray());
        Assert.Equal(2, level.GetProperty("succeeded").GetInt32());
        Assert.Equal(8, level.GetProperty("output_tokens").GetInt64());
        // The test vocabulary spells unknown words in byte tokens, so the prompt is at least one token per word.
        Assert.True(level.GetProperty("mean_prompt_tokens").GetDouble() >= 40);
    }

    [Fact]
    public async Task An_unknown_model_is_counted_as_http_404_and_the_exit_code_says_the_level_failed()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("bench.json");

        var (exit, output, _) = await InvokeAsync(
            "--url", server.HttpBase.ToString(), "--model", "no-such-model", "--concurrency", "2", "--requests", "3", "--max-tokens", "2", "--json", json);

        Assert.Equal(1, exit);
        Assert.Contains("http 404", output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var level = Assert.Single(report.RootElement.GetProperty("levels").EnumerateArray());
        Assert.Equal(3, level.GetProperty("errors").GetProperty("http 404").GetInt32());
        Assert.Contains("no-such-model", level.GetProperty("error_messages").GetProperty("http 404").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, level.GetProperty("ttft_ms").ValueKind);
    }

    [Fact]
    public async Task Bench_over_grpc_streams_fixed_length_generations_and_counts_tokens_from_token_ids()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("grpc.json");

        var (exit, output, error) = await InvokeAsync(
            "--grpc", server.GrpcBase!.ToString(), "--model", "scripted", "--concurrency", "1,2", "--requests", "4",
            "--max-tokens", "8", "--prompt-file", LoopPromptFile(), "--json", json);

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("grpc", report.RootElement.GetProperty("target").GetProperty("transport").GetString());
        var levels = report.RootElement.GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal([1, 2], levels.Select(l => l.GetProperty("concurrency").GetInt32()));
        foreach (var level in levels)
        {
            Assert.Equal(4, level.GetProperty("succeeded").GetInt32());
            Assert.Equal(32, level.GetProperty("output_tokens").GetInt64());
            Assert.True(level.GetProperty("mean_prompt_tokens").GetDouble() >= 2);
            Assert.Equal(4, level.GetProperty("ttft_ms").GetProperty("count").GetInt64());
            Assert.InRange(level.GetProperty("itl_ms").GetProperty("count").GetInt64(), 4, 4 * 7);
        }
    }

    [Fact]
    public async Task An_unknown_model_over_grpc_is_counted_as_grpc_not_found()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("grpc.json");

        var (exit, _, _) = await InvokeAsync(
            "--grpc", server.GrpcBase!.ToString(), "--model", "no-such-model", "--requests", "2", "--max-tokens", "2", "--json", json);

        Assert.Equal(1, exit);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var level = Assert.Single(report.RootElement.GetProperty("levels").EnumerateArray());
        Assert.Equal(2, level.GetProperty("errors").GetProperty("grpc NotFound").GetInt32());
        Assert.Contains("no-such-model", level.GetProperty("error_messages").GetProperty("grpc NotFound").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--concurrency", "1,x", "--concurrency")]
    [InlineData("--requests", "0", "--requests")]
    [InlineData("--delay", "-1", "--delay")]
    [InlineData("--warmup", "-1", "--warmup")]
    [InlineData("--url", "ftp://host", "--url")]
    [InlineData("--prompt-file", "/no/such/file.txt", "--prompt-file")]
    [InlineData("--grpc", "http://127.0.0.1:9", "not both")]
    public async Task Bad_arguments_exit_2_naming_the_option(string option, string value, string named)
    {
        string[] args = ["--model", "m", .. option == "--url" ? Array.Empty<string>() : ["--url", "http://127.0.0.1:9"], option, value];
        if (option == "--grpc")
        {
            args = [.. args, "--stream", "false"];
        }

        var (exit, _, error) = await InvokeAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delay_holds_the_first_request_back()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("delayed.json");
        var invoked = DateTimeOffset.UtcNow;

        var (exit, output, error) = await InvokeAsync(
            "--url", server.HttpBase.ToString(), "--model", "scripted", "--requests", "1", "--max-tokens", "2",
            "--prompt-file", LoopPromptFile(), "--json", json, "--delay", "1.5");

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var started = report.RootElement.GetProperty("started_at").GetDateTimeOffset();
        Assert.True(started - invoked >= TimeSpan.FromSeconds(1.4), $"the first request went out {(started - invoked).TotalSeconds:0.00} s after the call");
    }

    [Fact]
    public async Task Warm_up_requests_reach_the_server_but_not_the_figures()
    {
        await using var server = await ServerHarness.StartAsync();
        var json = _dir.File("warm.json");

        var (exit, output, error) = await InvokeAsync(
            "--url", server.HttpBase.ToString(), "--model", "scripted", "--concurrency", "2", "--requests", "2", "--max-tokens", "3",
            "--prompt-file", LoopPromptFile(), "--json", json, "--warmup", "3");

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("warm-up: 3 requests over 2 clients, 0 failed", output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var level = Assert.Single(report.RootElement.GetProperty("levels").EnumerateArray());
        Assert.Equal(2, level.GetProperty("requests").GetInt32());
        Assert.Equal(6, level.GetProperty("output_tokens").GetInt64());
        var samples = OperationsTestSupport.ParsePrometheus(await server.Http.GetStringAsync("metrics"));
        Assert.Equal(5 * 3, OperationsTestSupport.Sample(samples, "sovereign_generation_tokens_total", ("model", "scripted")));
    }

    [Fact]
    public async Task Neither_url_nor_grpc_is_an_error()
    {
        var (exit, _, error) = await InvokeAsync("--model", "m");

        Assert.Equal(2, exit);
        Assert.Contains("--url or --grpc", error, StringComparison.Ordinal);
    }
}
