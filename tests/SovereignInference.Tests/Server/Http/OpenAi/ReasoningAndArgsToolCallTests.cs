using System.Text.Json;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// Reasoning models ([THINK]…[/THINK] → reasoning_content) and v11+ tool calls ([TOOL_CALLS]name[ARGS]{…} → tool_calls)
/// through the real server, streamed and not.
/// </summary>
public sealed class ReasoningAndArgsToolCallTests
{
    /// <summary>A v11 model (its template writes [ARGS] and [CALL_ID]) that thinks, then calls get_weather, and answers after the result.</summary>
    private static readonly ScriptedModelSpec Spec = new()
    {
        Name = "sovereign-v11-tests",
        ChatTemplate = "{{ bos_token }}[SYSTEM_PROMPT][INST]{{ m }}[/INST][TOOL_CALLS]{{ name }}[CALL_ID]{{ id }}[ARGS]{{ args }}",
        ExtraControlTokens = ["[THINK]", "[/THINK]", "[ARGS]", "[CALL_ID]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]"],
        Transitions =
        [
            .. ScriptedModelSpec.Chain("[/INST]", "[THINK]", "▁need", "▁weather", "[/THINK]", "[TOOL_CALLS]", "get_weather", "[ARGS]", "{\"city\":", "▁\"Paris\"}", "</s>"),
            .. ScriptedModelSpec.Chain("[/TOOL_RESULTS]", "▁Sunny", "▁in", "▁Paris", ".", "</s>"),
        ],
    };

    internal const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";

    /// <summary>A server with the thinking v11 model under the id "v11" (also used by the Responses and Messages tests).</summary>
    internal static Task<ServerHarness> StartAsync(string? reasoningField = null)
    {
        var model = TestModels.Scripted(Spec);
        var settings = new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "v11",
        };
        if (reasoningField is not null)
        {
            settings["ReasoningField"] = reasoningField;
        }

        return ServerHarness.StartAsync(settings);
    }

    [Fact]
    public async Task Thinking_and_a_v11_call_come_back_as_reasoning_content_and_tool_calls()
    {
        await using var server = await StartAsync();

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", $$"""{"model":"v11","messages":[{"role":"user","content":"Weather?"}],"tools":{{Tools}},"temperature":0}""");

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal("need weather", message.GetProperty("reasoning_content").GetString());
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray().ToList());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\": \"Paris\"}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(message.TryGetProperty("reasoning", out _));
    }

    [Fact]
    public async Task Streamed_thinking_and_call_arrive_as_deltas_and_the_result_round_trips()
    {
        await using var server = await StartAsync(reasoningField: "reasoning");

        var (_, raw) = await PostRawAsync(server, $$"""{"model":"v11","messages":[{"role":"user","content":"Weather?"}],"tools":{{Tools}},"temperature":0,"stream":true}""");
        var events = OpenAiTestSupport.ParseSse(raw);
        var deltas = events.Where(e => e.RootElement.GetProperty("choices").GetArrayLength() > 0).Select(e => e.RootElement.GetProperty("choices")[0].GetProperty("delta")).ToList();

        Assert.Equal("need weather", string.Concat(deltas.Select(d => d.TryGetProperty("reasoning", out var r) ? r.GetString() : "")));
        Assert.DoesNotContain(deltas, d => d.TryGetProperty("reasoning_content", out _));
        var calls = deltas.Where(d => d.TryGetProperty("tool_calls", out _)).SelectMany(d => d.GetProperty("tool_calls").EnumerateArray()).ToList();
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        var id = calls[0].GetProperty("id").GetString()!;
        Assert.Equal("{\"city\": \"Paris\"}", string.Concat(calls.Select(c => c.GetProperty("function").GetProperty("arguments").GetString())));
        Assert.Equal("tool_calls", events.Select(e => e.RootElement.GetProperty("choices")).Where(c => c.GetArrayLength() > 0).Select(c => c[0].GetProperty("finish_reason")).Last(f => f.ValueKind == JsonValueKind.String).GetString());

        var (second, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            """{"model":"v11","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"reasoning":"need weather","tool_calls":[{"id":"ID","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},{"role":"tool","tool_call_id":"ID","content":"sunny"}],"tools":TOOLS,"temperature":0}""".Replace("ID", id, StringComparison.Ordinal).Replace("TOOLS", Tools, StringComparison.Ordinal));
        Assert.True(second.IsSuccessStatusCode, body.RootElement.ToString());
        Assert.Equal("Sunny in Paris.", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Grpc_chat_streams_the_thinking_and_the_call()
    {
        await using var server = await StartAsync();
        using var channel = Grpc.GrpcTestClient.Channel(server);
        var request = Grpc.GrpcTestClient.GreedyChat("v11", (Contracts.V1.ChatRole.User, "Weather?"));
        request.Tools.Add(new Contracts.V1.Tool { Name = "get_weather", ParametersJson = """{"type":"object"}""" });
        request.ReasoningEffort = "high";

        var stream = await Grpc.GrpcTestClient.ReadAllAsync(new Contracts.V1.Inference.InferenceClient(channel).Chat(request));

        Assert.Equal("need weather", string.Concat(stream.Responses.Select(r => r.Reasoning)));
        Assert.Equal("", stream.Text);
        var call = Assert.Single(stream.Last.ToolCalls);
        Assert.Equal(("get_weather", "{\"city\": \"Paris\"}"), (call.Name, call.ArgumentsJson));
        Assert.Equal(Contracts.V1.FinishReason.ToolCalls, stream.Final.FinishReason);
    }

    [Fact]
    public async Task Reasoning_effort_is_validated()
    {
        await using var server = await StartAsync();

        var (ok, _) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"v11","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"low","max_tokens":1}""");
        var (bad, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"v11","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"extreme"}""");

        Assert.True(ok.IsSuccessStatusCode);
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("reasoning_effort", body.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    private static async Task<(HttpResponseMessage, string)> PostRawAsync(ServerHarness server, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        var response = await server.Http.PostAsync("v1/chat/completions", content);
        return (response, await response.Content.ReadAsStringAsync());
    }
}
