using SovereignInference.Contracts.V1;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>POST /apply-template and gRPC ApplyTemplate show the exact prompt a conversation becomes.</summary>
public sealed class ApplyTemplateTests
{
    [Fact]
    public async Task Http_and_grpc_show_the_rendered_prompt_and_its_format()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "apply-template",
            """{"model":"tools","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"w","parameters":{"type":"object"}}}]}""");

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        const string expected = "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"w\", \"parameters\": {\"type\": \"object\"}}}][/AVAILABLE_TOOLS][INST] Be brief.\n\nWeather?[/INST]";
        Assert.Equal(expected, body.RootElement.GetProperty("prompt").GetString());
        Assert.Equal("mistral-v3", body.RootElement.GetProperty("format").GetString());

        using var channel = GrpcTestClient.Channel(server);
        var request = new ApplyTemplateRequest { Model = "tools" };
        request.Messages.Add(new ChatMessage { Role = ChatRole.System, Content = "Be brief." });
        request.Messages.Add(new ChatMessage { Role = ChatRole.User, Content = "Weather?" });
        request.Tools.Add(new Tool { Name = "get_weather", Description = "w", ParametersJson = """{"type":"object"}""" });
        var viaGrpc = await new Inference.InferenceClient(channel).ApplyTemplateAsync(request);

        Assert.Equal(expected, viaGrpc.Prompt);
        Assert.Equal("mistral-v3", viaGrpc.Format);
        Assert.Equal(1, viaGrpc.TokenIds[0]);
    }

    [Fact]
    public async Task A_conversation_the_format_cannot_express_is_a_400_naming_messages()
    {
        await using var server = await ServerHarness.StartAsync();

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "apply-template", """{"messages":[{"role":"user","content":"a"},{"role":"tool","content":"r","tool_call_id":"abcdefghi"}]}""");

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("messages", body.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Thinking_content_parts_render_as_mistral_common_renders_them()
    {
        var model = TestModels.Scripted(ScriptedModels.Spec with { Name = "sovereign-v13-parts", ChatTemplate = null });
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "v13",
            ["ChatTemplates:v13"] = "mistral-v13",
        });

        // mistral-common test_end_to_end_v13: a system message of chunks [text, thinking, text]; an assistant's
        // thinking chunk is its reasoning, rendered before its answer.
        var (response, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "apply-template",
            """{"model":"v13","messages":[{"role":"system","content":[{"type":"text","text":"S1"},{"type":"thinking","thinking":"TS"},{"type":"text","text":"S2"}]},{"role":"user","content":"U1"},{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"T1"}]},{"type":"text","text":"A1"}]},{"role":"user","content":"U2"}]}""");
        var (userThinking, userBody) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "apply-template",
            """{"model":"v13","messages":[{"role":"user","content":[{"type":"thinking","thinking":"x"}]}]}""");
        var (badThinking, badBody) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "apply-template",
            """{"model":"v13","messages":[{"role":"system","content":[{"type":"thinking","thinking":7}]},{"role":"user","content":"U"}]}""");

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        Assert.Equal("<s>[SYSTEM_PROMPT]S1[THINK]TS[/THINK]S2[/SYSTEM_PROMPT][INST]U1[/INST][THINK]T1[/THINK]A1</s>[INST]U2[/INST]", body.RootElement.GetProperty("prompt").GetString());
        Assert.Equal(400, (int)userThinking.StatusCode);
        Assert.Contains("only system messages", userBody.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, (int)badThinking.StatusCode);
        Assert.Equal("messages[0].content[0].thinking", badBody.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_thinking_part_in_a_format_without_think_is_a_400()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "apply-template",
            """{"model":"tools","messages":[{"role":"system","content":[{"type":"thinking","thinking":"TS"}]},{"role":"user","content":"U"}]}""");

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("has no [THINK]", body.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
