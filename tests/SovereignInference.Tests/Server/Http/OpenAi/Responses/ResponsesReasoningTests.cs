using System.Net;
using System.Text;
using System.Text.Json;
using SovereignInference.Tests.Server.Http.OpenAi;

namespace SovereignInference.Tests.Server.Http.OpenAi.Responses;

/// <summary>A reasoning model's [THINK]…[/THINK] as a Responses reasoning item, before its function call.</summary>
public sealed class ResponsesReasoningTests
{
    private const string Body = """{"model":"v11","input":"Weather in Paris?","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],"reasoning":{"effort":"high"}""";

    [Fact]
    public async Task Thinking_is_a_reasoning_item_before_the_function_call()
    {
        await using var server = await ReasoningAndArgsToolCallTests.StartAsync();
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/responses", Body + "}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var output = json.RootElement.GetProperty("output");
        Assert.Equal("reasoning", output[0].GetProperty("type").GetString());
        Assert.Equal("need weather", output[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("function_call", output[1].GetProperty("type").GetString());
        Assert.Equal("get_weather", output[1].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Streamed_thinking_arrives_as_reasoning_text_deltas_closed_before_the_call()
    {
        await using var server = await ReasoningAndArgsToolCallTests.StartAsync();
        using var content = new StringContent(Body + ""","stream":true}""", Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync("v1/responses", content);
        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonDocument.Parse(e[(e.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).RootElement)
            .ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();

        var thinking = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.reasoning_text.delta").Select(e => e.GetProperty("delta").GetString()));
        Assert.Equal("need weather", thinking);
        Assert.True(types.IndexOf("response.reasoning_text.done") < types.IndexOf("response.function_call_arguments.delta"), string.Join(",", types));
        Assert.Equal("response.completed", types[^1]);
        var final = events[^1].GetProperty("response").GetProperty("output");
        Assert.Equal(["reasoning", "function_call"], final.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
    }
}
