using System.Net;
using System.Text;
using System.Text.Json;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>Raw-byte checks of the SSE wire format and /v1/completions, /tokenize, /detokenize.</summary>
public sealed class SseAndCompletionsTests
{
    [Fact]
    public async Task Chat_stream_frames_events_with_one_id_role_first_finish_usage_and_done()
    {
        await using var server = await ServerHarness.StartAsync();
        var (response, body) = await OpenAiTestSupport.PostRawAsync(
            server, "v1/chat/completions", Encoding.UTF8.GetBytes("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = OpenAiTestSupport.ParseSse(body);
        Assert.Single(events.Select(e => e.RootElement.GetProperty("id").GetString()).Distinct());
        Assert.Single(events.Select(e => e.RootElement.GetProperty("created").GetInt64()).Distinct());
        Assert.All(events, e => Assert.Equal("chat.completion.chunk", e.RootElement.GetProperty("object").GetString()));

        var first = events[0].RootElement.GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        var withChoices = events.Where(e => e.RootElement.GetProperty("choices").GetArrayLength() > 0).ToList();
        var text = string.Concat(withChoices.Select(e => e.RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : ""));
        Assert.Equal("Hello world!", text);
        var finishes = withChoices.Select(e => e.RootElement.GetProperty("choices")[0].GetProperty("finish_reason"))
            .Where(f => f.ValueKind != JsonValueKind.Null).Select(f => f.GetString()).ToList();
        Assert.Equal(["stop"], finishes);

        var usageEvent = events[^1].RootElement;
        Assert.Equal(0, usageEvent.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageEvent.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(usageEvent.GetProperty("usage").GetProperty("prompt_tokens_details").TryGetProperty("cached_tokens", out _));
    }

    [Fact]
    public async Task A_utf8_character_split_across_tokens_arrives_whole_in_the_stream()
    {
        await using var server = await ServerHarness.StartAsync();
        var prompt = JsonSerializer.Serialize(ScriptedModels.Prompt("▁utf"));
        var (response, body) = await OpenAiTestSupport.PostRawAsync(
            server, "v1/completions", Encoding.UTF8.GetBytes($$"""{"model":"scripted","prompt":{{prompt}},"stream":true,"temperature":0}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain('\uFFFD', body);
        var chunks = OpenAiTestSupport.ParseSse(body)
            .Select(e => e.RootElement.GetProperty("choices")[0])
            .Select(c => (Text: c.GetProperty("text").GetString()!, Finish: c.GetProperty("finish_reason").ValueKind == JsonValueKind.String))
            .ToList();
        Assert.Equal(["é", "€", "😀"], chunks.Select(c => c.Text).Where(t => t.Length > 0));

        // One chunk per token, the held bytes as empty text (clients see each token arrive): 2 + 3 + 4 byte tokens.
        Assert.Equal(["", "é", "", "", "€", "", "", "", "😀"], chunks.Where(c => !c.Finish).Select(c => c.Text));
    }

    [Fact]
    public async Task Completions_answer_text_token_and_multi_prompts_with_usage()
    {
        await using var server = await ServerHarness.StartAsync();
        var tokens = JsonSerializer.Serialize(ScriptedModels.Prompt("▁utf"));
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(
            server, "v1/completions", $$"""{"model":"scripted","prompt":[{{tokens}},{{tokens}}],"n":2,"temperature":0,"logprobs":1}""");

        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        Assert.Equal("text_completion", json.RootElement.GetProperty("object").GetString());
        var choices = json.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(4, choices.Count);
        Assert.All(choices, c => Assert.Equal("é€😀", c.GetProperty("text").GetString()));
        Assert.All(choices, c => Assert.Equal("stop", c.GetProperty("finish_reason").GetString()));
        var logprobs = choices[0].GetProperty("logprobs");
        Assert.Equal(9, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.Equal(9, logprobs.GetProperty("top_logprobs").GetArrayLength());
        var usage = json.RootElement.GetProperty("usage");
        Assert.Equal(4, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(36, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(40, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_max_tokens_gives_length()
    {
        await using var server = await ServerHarness.StartAsync();
        var tokens = JsonSerializer.Serialize(ScriptedModels.Prompt("▁loop"));
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/completions", $$"""{"model":"scripted","prompt":{{tokens}},"max_tokens":4,"temperature":0}""");

        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal(" a b a b", choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Tokenize_and_detokenize_round_trip()
    {
        await using var server = await ServerHarness.StartAsync();
        var (_, tokenized) = await OpenAiTestSupport.PostJsonAsync(server, "tokenize", """{"content":"[INST] Hello","with_pieces":true}""");
        var pieces = tokenized.RootElement.GetProperty("tokens").EnumerateArray().ToList();
        Assert.Equal("[INST]", pieces[0].GetProperty("piece").GetString());
        var ids = string.Join(",", pieces.Select(p => p.GetProperty("id").GetInt32()));

        var (response, detokenized) = await OpenAiTestSupport.PostJsonAsync(server, "detokenize", $$"""{"tokens":[{{ids}}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Hello", detokenized.RootElement.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_disconnect_mid_stream_removes_the_sequence_from_the_engine()
    {
        await using var server = await ServerHarness.StartAsync();
        var tokens = JsonSerializer.Serialize(ScriptedModels.Prompt("▁loop"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = new StringContent($$"""{"model":"scripted","prompt":{{tokens}},"stream":true,"temperature":0}""", Encoding.UTF8, "application/json"),
        };
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        Assert.Equal(1, server.Engine.ActiveSequences);

        response.Dispose();

        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "sequence cancelled after disconnect");
        var (after, _) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>Chat models whose reply (after "[/INST]") is "é€😀" one byte per token, or " a b a b ..." forever.</summary>
    private static Dictionary<string, string?> ChatStreamModels()
    {
        var utf = TestModels.Scripted(new ScriptedModelSpec
        {
            Name = "sovereign-chat-utf",
            ContextLength = 32768,
            Transitions = [.. ScriptedModelSpec.Chain("[/INST]", "<0xC3>", "<0xA9>", "<0xE2>", "<0x82>", "<0xAC>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "</s>")],
        });
        var loop = TestModels.Scripted(new ScriptedModelSpec
        {
            Name = "sovereign-chat-loop",
            ContextLength = 32768, // an endless loop that outlasts the test: a quiet machine decodes 4096 tokens before the client reads its first line
            Transitions = [.. ScriptedModelSpec.Chain("[/INST]", "▁a", "▁b", "▁a")],
        });
        var settings = ServerHarness.ModelSettings(("chat-utf", utf.Path), ("chat-loop", loop.Path));
        settings["CtxSize"] = "32768";
        return settings;
    }

    [Fact]
    public async Task A_utf8_character_split_across_tokens_arrives_whole_in_the_chat_stream()
    {
        await using var server = await ServerHarness.StartAsync(ChatStreamModels());
        var (response, body) = await OpenAiTestSupport.PostRawAsync(
            server, "v1/chat/completions", """{"model":"chat-utf","messages":[{"role":"user","content":"Hi"}],"stream":true,"temperature":0}"""u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain('\uFFFD', body);
        var deltas = OpenAiTestSupport.ParseSse(body)
            .Select(e => e.RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "")
            .Where(t => t.Length > 0)
            .ToList();
        Assert.Equal(["é", "€", "😀"], deltas);
    }

    [Fact]
    public async Task Client_disconnect_mid_chat_stream_cancels_the_generation()
    {
        await using var server = await ServerHarness.StartAsync(ChatStreamModels());
        var ended = new TaskCompletionSource<SovereignInference.Engine.Observability.GenerationRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Engine.GenerationCompleted += record => ended.TrySetResult(record);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"chat-loop","messages":[{"role":"user","content":"Hi"}],"stream":true,"temperature":0}""", Encoding.UTF8, "application/json"),
        };
        // A client of its own that never drains a disposed response: HttpClient's pool would otherwise read the rest of
        // the stream (up to 1 MiB) to reuse the connection, and on a fast machine the whole generation fits in that.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionLifetime = TimeSpan.Zero })
        {
            BaseAddress = server.Http.BaseAddress,
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && !line.Contains("\"content\":\" a\"", StringComparison.Ordinal))
        {
        }

        Assert.NotNull(line);
        Assert.Equal(1, server.Engine.ActiveSequences);

        response.Dispose();
        client.Dispose();

        var record = await ended.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("cancelled", record.Status);
        Assert.True(record.CompletionTokens < record.Request.MaxTokens.GetValueOrDefault(int.MaxValue) && record.CompletionTokens < 4000, $"{record.CompletionTokens} tokens");
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "sequence removed after disconnect");
        Assert.Empty(server.Logs.Errors);
    }
}
