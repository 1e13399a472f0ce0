using System.Text.Json;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Grammar;
using SovereignInference.Gguf;
using SovereignInference.Tests.Engine.Grammar;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// tool_choice "required" or a named function is enforced by a grammar: a random-weight model, sampled at
/// temperature 1, always answers with a complete call whose arguments follow the tool's schema, in the JSON-list
/// format (v3) and in the [ARGS] format (v11).
/// </summary>
public sealed class ForcedToolCallGrammarTests
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"days":{"type":"integer"}},"required":["city","days"],"additionalProperties":false}""";

    private static readonly RandomModelSpec V11 = RandomModelSpec.Tiny with
    {
        Name = "sovereign-tiny-v11",
        ChatTemplate = "{{ bos_token }}[SYSTEM_PROMPT][INST]{{ m }}[/INST][TOOL_CALLS]{{ name }}[CALL_ID]{{ id }}[ARGS]{{ args }}",
        ExtraControlTokens = ["[ARGS]", "[CALL_ID]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]"],
    };

    public static TheoryData<string, string, ulong> Cases => new()
    {
        { "v3", "\"required\"", 1 },
        { "v3", "\"required\"", 2 },
        { "v3", """{"type":"function","function":{"name":"get_time"}}""", 3 },
        { "v11", "\"required\"", 4 },
        { "v11", "\"required\"", 5 },
        { "v11", """{"type":"function","function":{"name":"get_weather"}}""", 6 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_forced_reply_is_always_a_valid_call(string format, string toolChoice, ulong seed)
    {
        var model = format == "v11" ? TestModels.Random(V11) : TestModels.Tiny();
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "m",
            ["CtxSize"] = "1024",
        });
        var tools = """[{"type":"function","function":{"name":"get_weather","parameters":SCHEMA}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"]}}}]""".Replace("SCHEMA", Schema, StringComparison.Ordinal);

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            $$"""{"model":"m","messages":[{"role":"user","content":"Weather?"}],"tools":{{tools}},"tool_choice":{{toolChoice}},"temperature":1,"seed":{{seed}},"max_tokens":300}""");

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            var name = call.GetProperty("function").GetProperty("name").GetString();
            using var args = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
            if (name == "get_weather")
            {
                Assert.Empty(SovereignInference.Tests.Engine.Grammar.SchemaValidator.Validate(JsonDocument.Parse(Schema).RootElement, args.RootElement));
            }
            else
            {
                Assert.Equal("get_time", name);
                Assert.Contains(args.RootElement.GetProperty("zone").GetString(), new[] { "UTC", "CET" });
            }
        }

        if (toolChoice.Contains("get_time", StringComparison.Ordinal))
        {
            Assert.All(calls, c => Assert.Equal("get_time", c.GetProperty("function").GetProperty("name").GetString()));
        }
    }

    [Theory]
    [InlineData("\"required\"")]
    [InlineData("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}")]
    public async Task A_forced_choice_on_the_scripted_tool_model_gives_one_complete_call_and_no_text(string toolChoice)
    {
        // The case: with a named choice the model stopped after the opened call and the client got that text with finish "stop".
        await using var server = await OpenAiTestSupport.StartToolServerAsync();

        var (_, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            """{"model":"tools","messages":[{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":CHOICE,"temperature":0,"max_tokens":40}""".Replace("CHOICE", toolChoice, StringComparison.Ordinal));

        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.True(choice.GetProperty("finish_reason").GetString() == "tool_calls", body.RootElement.ToString());
        var call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\": \"Paris\"}", call.GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task Auto_calls_follow_the_grammar_once_the_model_opens_them_and_plain_answers_stay_free()
    {
        // After [TOOL_CALLS] this model would write "oops"; the lazy grammar makes it a valid call instead.
        var spec = new ScriptedModelSpec
        {
            Name = "sovereign-oops-tests",
            Transitions =
            [
                .. ScriptedModelSpec.Chain("[/INST]", "[TOOL_CALLS]", "▁oops", "</s>"),
                .. ScriptedModelSpec.Chain("[/TOOL_RESULTS]", "▁Done", ".", "</s>"),
            ],
        };
        var model = TestModels.Scripted(spec);
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "oops",
        });
        const string Tools = """[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"k":{"type":"string","maxLength":2}},"required":["k"],"additionalProperties":false}}}]""";

        var (_, called) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"oops","messages":[{"role":"user","content":"Hi"}],"tools":TOOLS,"temperature":0,"max_tokens":400}""".Replace("TOOLS", Tools, StringComparison.Ordinal));
        var (_, answered) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"oops","messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"abcdefghi","type":"function","function":{"name":"f","arguments":"{\"k\":\"x\"}"}}]},{"role":"tool","tool_call_id":"abcdefghi","content":"ok"}],"tools":TOOLS,"temperature":0}""".Replace("TOOLS", Tools, StringComparison.Ordinal));

        var choice = called.RootElement.GetProperty("choices")[0];
        Assert.True(choice.GetProperty("finish_reason").GetString() == "tool_calls", called.RootElement.ToString());
        // Greedy ties pick the lowest id, so this model keeps adding calls up to the grammar's limit: all valid.
        var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.InRange(calls.Count, 1, ToolCallGrammar.MaxCalls);
        foreach (var call in calls)
        {
            using var args = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
            Assert.True(args.RootElement.GetProperty("k").GetString()!.Length <= 2);
        }

        Assert.Equal("Done.", answered.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [InlineData(MistralTemplateVersion.V3, null)]
    [InlineData(MistralTemplateVersion.V3, "f")]
    [InlineData(MistralTemplateVersion.V11, null)]
    [InlineData(MistralTemplateVersion.V15, "f")]
    public void The_grammars_pass_the_gbnf_validator(MistralTemplateVersion version, string? function)
    {
        ToolDefinition[] tools = [new("f", null, Schema), new("g", null, null), new("h", null, """{"type":"object","properties":{"p":{"type":"string","pattern":"a+"}}}""")];

        var grammar = ToolCallGrammar.For(version, tools, function);

        GbnfValidator.Validate(grammar);
    }
}
