using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Http.Anthropic;

/// <summary>/v1/messages through the official Anthropic .NET SDK: text, streaming, tools round trip, count_tokens, errors.</summary>
public sealed class MessagesSdkTests
{
    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "Current weather of a city",
        InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonDocument.Parse("""{"type":"string"}""").RootElement }, Required = ["city"] },
    };

    private static AnthropicClient Client(ServerHarness server, string key = "not-needed") => new() { BaseUrl = server.HttpBase.ToString().TrimEnd('/'), ApiKey = key, MaxRetries = 0 };

    [Fact]
    public async Task A_message_gets_a_text_reply_with_usage_and_end_turn()
    {
        await using var server = await ServerHarness.StartAsync();
        var message = await Client(server).Messages.Create(new MessageCreateParams
        {
            Model = "scripted",
            MaxTokens = 32,
            System = "Be brief.",
            Messages = [new UserMessageParam("Say hello")],
        });

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal("Hello world!", text!.Text.Trim());
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.True(message.Usage.InputTokens > 0);
        Assert.True(message.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task Max_tokens_and_stop_sequences_set_the_stop_reason()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = Client(server);
        var cut = await client.Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 1, Messages = [new UserMessageParam("Say hello")] });
        Assert.Equal("max_tokens", cut.StopReason!.Raw());

        var stopped = await client.Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 32, Messages = [new UserMessageParam("Say hello")], StopSequences = ["world"] });
        Assert.Equal("stop_sequence", stopped.StopReason!.Raw());
        Assert.Equal("world", stopped.StopSequence);
    }

    [Fact]
    public async Task Streaming_sends_message_start_block_deltas_message_delta_and_stop()
    {
        await using var server = await ServerHarness.StartAsync();
        var types = new List<string>();
        var text = new StringBuilder();
        await foreach (var e in Client(server).Messages.CreateStreaming(new MessageCreateParams { Model = "scripted", MaxTokens = 32, Messages = [new UserMessageParam("Say hello")] }))
        {
            types.Add(e.Json.GetProperty("type").GetString()!);
            if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var t))
            {
                text.Append(t!.Text);
            }
        }

        Assert.Equal("message_start", types[0]);
        Assert.Equal("content_block_start", types[1]);
        Assert.True(types.Count(t => t == "content_block_delta") >= 2);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types[^3..]);
        Assert.Equal("Hello world!", text.ToString().Trim());
    }

    [Fact]
    public async Task Tools_round_trip_tool_use_then_tool_result()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var client = Client(server);
        var first = await client.Messages.Create(new MessageCreateParams { Model = "tools", MaxTokens = 64, Messages = [new UserMessageParam("Weather in Paris?")], Tools = [Weather] });

        Assert.Equal("tool_use", first.StopReason!.Raw());
        Assert.True(Assert.Single(first.Content).TryPickToolUse(out var use));
        Assert.Equal("get_weather", use!.Name);
        Assert.Equal("Paris", use.Input["city"].GetString());

        var second = await client.Messages.Create(new MessageCreateParams
        {
            Model = "tools",
            MaxTokens = 64,
            Tools = [Weather],
            Messages =
            [
                new UserMessageParam("Weather in Paris?"),
                new AssistantMessageParam(new MessageContentParam([new ToolUseBlockParam { ID = use.ID, Name = use.Name, Input = use.Input }])),
                new UserMessageParam(new MessageContentParam([new ToolResultBlockParam(use.ID) { Content = "sunny, 24 C" }])),
            ],
        });
        Assert.True(Assert.Single(second.Content).TryPickText(out var answer));
        Assert.Equal("Sunny in Paris.", answer!.Text.Trim());
    }

    [Fact]
    public async Task Streamed_tool_use_arrives_as_input_json_deltas()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var json = new StringBuilder();
        string? name = null;
        await foreach (var e in Client(server).Messages.CreateStreaming(new MessageCreateParams { Model = "tools", MaxTokens = 64, Messages = [new UserMessageParam("Weather?")], Tools = [Weather] }))
        {
            if (e.TryPickContentBlockStart(out var start) && start!.ContentBlock.TryPickToolUse(out var use))
            {
                name = use!.Name;
            }
            else if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickInputJson(out var part))
            {
                json.Append(part!.PartialJson);
            }
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("Paris", JsonDocument.Parse(json.ToString()).RootElement.GetProperty("city").GetString());
    }

    [Fact]
    public async Task Count_tokens_counts_the_prompt_the_message_would_use()
    {
        await using var server = await ServerHarness.StartAsync();
        var client = Client(server);
        var count = await client.Messages.CountTokens(new MessageCountTokensParams { Model = "scripted", Messages = [new UserMessageParam("Say hello")] });
        var message = await client.Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 8, Messages = [new UserMessageParam("Say hello")] });
        Assert.Equal(message.Usage.InputTokens + (message.Usage.CacheReadInputTokens ?? 0), count.InputTokens);
    }

    [Fact]
    public async Task The_key_is_accepted_as_x_api_key_and_errors_are_Anthropic_shaped()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());
        var ok = await Client(server, AliceKey).Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 8, Messages = [new UserMessageParam("hi")] });
        Assert.NotEmpty(ok.Content);

        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => Client(server, "sk-wrong").Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 8, Messages = [new UserMessageParam("hi")] }));
        await Assert.ThrowsAsync<AnthropicNotFoundException>(() => Client(server, AliceKey).Messages.Create(new MessageCreateParams { Model = "no-such-model", MaxTokens = 8, Messages = [new UserMessageParam("hi")] }));
        await Assert.ThrowsAsync<AnthropicBadRequestException>(() => Client(server, AliceKey).Messages.Create(new MessageCreateParams { Model = "scripted", MaxTokens = 8, Messages = [] }));
    }

    [Theory]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"hi"}]}""", 400, "invalid_request_error", "max_tokens")]
    [InlineData("""{"model":"scripted","max_tokens":8,"messages":[{"role":"system","content":"hi"}]}""", 400, "invalid_request_error", "role")]
    [InlineData("""{"model":"scripted","max_tokens":8,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}""", 400, "invalid_request_error", "image")]
    [InlineData("""{"model":"nope","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""", 404, "not_found_error", "nope")]
    public async Task Raw_errors_have_the_Anthropic_error_shape(string body, int status, string type, string mention)
    {
        await using var server = await ServerHarness.StartAsync();
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/messages", body);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        Assert.Equal(type, json.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(mention, json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Routing_errors_under_v1_messages_are_Anthropic_shaped()
    {
        await using var server = await ServerHarness.StartAsync();
        using var response = await server.Http.GetAsync("v1/messages");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
