using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using SovereignInference.Tests.Server.Http.OpenAi;

namespace SovereignInference.Tests.Server.Http.Anthropic;

/// <summary>A reasoning model's [THINK]…[/THINK] as an Anthropic thinking block, through the official SDK.</summary>
public sealed class MessagesThinkingTests
{
    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonDocument.Parse("""{"type":"string"}""").RootElement } },
    };

    [Fact]
    public async Task Thinking_comes_back_as_a_thinking_block_before_the_tool_use()
    {
        await using var server = await ReasoningAndArgsToolCallTests.StartAsync();
        var client = new AnthropicClient { BaseUrl = server.HttpBase.ToString().TrimEnd('/'), ApiKey = "x", MaxRetries = 0 };
        var parameters = new MessageCreateParams { Model = "v11", MaxTokens = 64, Messages = [new UserMessageParam("Weather in Paris?")], Tools = [Weather] };

        var message = await client.Messages.Create(parameters);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("need weather", thinking!.Thinking);
        Assert.True(message.Content[1].TryPickToolUse(out var use));
        Assert.Equal("get_weather", use!.Name);

        var streamed = new StringBuilder();
        var order = new List<string>();
        await foreach (var e in client.Messages.CreateStreaming(parameters))
        {
            if (e.TryPickContentBlockStart(out var start))
            {
                order.Add(start!.ContentBlock.Json.GetProperty("type").GetString()!);
            }
            else if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickThinking(out var part))
            {
                streamed.Append(part!.Thinking);
            }
        }

        Assert.Equal("need weather", streamed.ToString());
        Assert.Equal(["thinking", "tool_use"], order);
    }
}
