using SovereignInference.Contracts.V1;
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
}
