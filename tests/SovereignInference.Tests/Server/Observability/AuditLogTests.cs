using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability;

/// <summary>The audit log: one JSON line per request, text only when asked for, daily files with retention.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task Each_request_writes_one_line_with_key_model_hash_tokens_and_status_and_old_files_are_deleted()
    {
        using var dir = new TempDirectory();
        var old = dir.File("audit-2000-01-01.jsonl");
        await File.WriteAllTextAsync(old, "{}\n");
        var unrelated = dir.File("notes.txt");
        await File.WriteAllTextAsync(unrelated, "keep");
        await using var server = await ServerHarness.StartAsync(TwoKeys(("Audit:Path", dir.Path), ("Audit:RetentionDays", "7")));

        await RunAsync(server.Engine.GenerateAsync(Hello("alice")));
        await RunAsync(server.Engine.GenerateAsync(Loop("bob", maxTokens: 4)));
        await Assert.ThrowsAsync<EngineException>(() => RunAsync(server.Engine.GenerateAsync(Hello("bob", model: "nope"))));

        var file = Assert.Single(Directory.GetFiles(dir.Path, "audit-*.jsonl"));
        Assert.Equal($"audit-{DateTime.UtcNow:yyyy-MM-dd}.jsonl", Path.GetFileName(file));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(unrelated));
        var lines = (await ReadShared(file)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        var sha = server.Engine.GetReadyModel("scripted").Info!.Sha256;

        Assert.Equal("alice", lines[0].GetProperty("key").GetString());
        Assert.Equal("scripted", lines[0].GetProperty("model").GetString());
        Assert.Equal(sha, lines[0].GetProperty("model_sha256").GetString());
        Assert.Equal(2, lines[0].GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, lines[0].GetProperty("completion_tokens").GetInt32());
        Assert.Equal("ok", lines[0].GetProperty("status").GetString());
        Assert.Equal("stop", lines[0].GetProperty("finish_reason").GetString());
        Assert.True(lines[0].GetProperty("latency_ms").GetDouble() > 0);
        Assert.True(DateTimeOffset.TryParse(lines[0].GetProperty("time").GetString(), out _));
        Assert.False(lines[0].TryGetProperty("prompt_token_ids", out _));
        Assert.False(lines[0].TryGetProperty("completion", out _));

        Assert.Equal(("bob", "length", 4), (lines[1].GetProperty("key").GetString(), lines[1].GetProperty("finish_reason").GetString(), lines[1].GetProperty("completion_tokens").GetInt32()));
        Assert.Equal(("model_not_found", JsonValueKind.Null), (lines[2].GetProperty("status").GetString(), lines[2].GetProperty("model_sha256").ValueKind));
    }

    [Fact]
    public async Task Prompt_and_completion_text_are_recorded_only_with_IncludeText()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Audit:Path"] = dir.Path, ["Audit:IncludeText"] = "true" });

        await RunAsync(server.Engine.GenerateAsync(new GenerationRequest
        {
            Model = "scripted",
            Prompt = "[INST] hi [/INST]",
            Sampling = new SamplingParams { Temperature = 0 },
        }));

        var line = JsonDocument.Parse(Assert.Single(await ReadShared(Assert.Single(Directory.GetFiles(dir.Path))))).RootElement;
        Assert.Equal("[INST] hi [/INST]", line.GetProperty("prompt").GetString());
        Assert.Equal(" Hello world!", line.GetProperty("completion").GetString());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("key").ValueKind);
    }

    private static async Task<string[]> ReadShared(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
