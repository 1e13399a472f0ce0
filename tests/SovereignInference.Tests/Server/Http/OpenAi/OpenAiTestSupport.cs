using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>Clients and models for the OpenAI API tests.</summary>
internal static class OpenAiTestSupport
{
    /// <summary>
    /// A model that calls a tool: after "[/INST]" it writes [TOOL_CALLS] and the JSON array
    /// [{"name": "get_weather", "arguments": {"city": "Paris"}}]; after "[/TOOL_RESULTS]" it answers " Sunny in Paris.".
    /// </summary>
    public static ScriptedModelSpec ToolSpec { get; } = new()
    {
        Name = "sovereign-tool-tests",
        Transitions =
        [
            .. ScriptedModelSpec.Chain("[/INST]", "[TOOL_CALLS]", "▁[{\"name\":", "▁\"get_weather\",", "▁\"arguments\":", "▁{\"city\":", "▁\"Paris\"}}]", "</s>"),
            .. ScriptedModelSpec.Chain("[/TOOL_RESULTS]", "▁Sunny", "▁in", "▁Paris", ".", "</s>"),
        ],
    };

    public static Task<ServerHarness> StartToolServerAsync()
    {
        var model = TestModels.Scripted(ToolSpec);
        return ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "tools",
        });
    }

    public static OpenAIClient Client(ServerHarness server) => new(
        new ApiKeyCredential("not-needed"),
        new OpenAIClientOptions { Endpoint = new Uri(server.HttpBase, "v1/") });

    public static async Task<(HttpResponseMessage Response, JsonDocument Body)> PostJsonAsync(ServerHarness server, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await server.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text));
    }

    public static async Task<(HttpResponseMessage Response, string Body)> PostRawAsync(ServerHarness server, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await server.Http.PostAsync(path, content);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The JSON payloads of an SSE body, checking the framing: every event is "data: …\n\n", the last is [DONE].</summary>
    public static List<JsonDocument> ParseSse(string body)
    {
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        return [.. events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]))];
    }
}
