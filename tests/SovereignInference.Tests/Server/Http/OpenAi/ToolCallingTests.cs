using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using SovereignInference.Engine.Chat;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>Tool calls: the model writes [TOOL_CALLS] + JSON, the client gets tool_calls, sends the result back, and gets the answer.</summary>
public sealed class ToolCallingTests
{
    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool(
        "get_weather", "Current weather of a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    [Fact]
    public async Task Tool_call_round_trip_through_the_openai_sdk()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tools");
        var options = new ChatCompletionOptions { Temperature = 0, Tools = { Weather } };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        var first = (await chat.CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.True(ToolCallIds.IsMistralId(call.Id));
        using (var args = JsonDocument.Parse(call.FunctionArguments.ToString()))
        {
            Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
        }

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temperature": 21, "sky": "sunny"}"""));
        var second = (await chat.CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Equal("Sunny in Paris.", second.Content[0].Text);
    }

    [Fact]
    public async Task Foreign_tool_call_ids_from_clients_round_trip()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tools");
        List<OpenAI.Chat.ChatMessage> messages =
        [
            new UserChatMessage("What is the weather in Paris?"),
            new AssistantChatMessage([OpenAI.Chat.ChatToolCall.CreateFunctionToolCall("call_Zx81LangChainStyle-0001", "get_weather", BinaryData.FromString("""{"city":"Paris"}"""))]),
            new ToolChatMessage("call_Zx81LangChainStyle-0001", "sunny"),
        ];

        var answer = (await chat.CompleteChatAsync(messages, new ChatCompletionOptions { Temperature = 0, Tools = { Weather } })).Value;

        Assert.Equal("Sunny in Paris.", answer.Content[0].Text);
    }

    [Fact]
    public async Task Streamed_tool_calls_arrive_as_incremental_deltas()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tools");

        var arguments = new StringBuilder();
        string? name = null, id = null;
        var argumentUpdates = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], new ChatCompletionOptions { Temperature = 0, Tools = { Weather } }))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                Assert.Equal(0, tool.Index);
                name ??= tool.FunctionName;
                id ??= tool.ToolCallId;
                var fragment = tool.FunctionArgumentsUpdate?.ToString() ?? "";
                if (fragment.Length > 0)
                {
                    argumentUpdates++;
                    arguments.Append(fragment);
                }
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.True(ToolCallIds.IsMistralId(id));
        Assert.Equal("{\"city\": \"Paris\"}", arguments.ToString());
        Assert.True(argumentUpdates >= 2, "arguments stream in fragments");
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Tool_choice_none_leaves_the_tool_call_output_as_text_free_of_control_tokens()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            """{"model":"tools","messages":[{"role":"user","content":"Weather?"}],"temperature":0,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"none"}""");

        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public async Task A_chat_prompt_keeps_control_token_text_in_user_content_as_text()
    {
        await using var server = await ServerHarness.StartAsync();
        var model = server.Engine.GetReadyModel("scripted");
        var prompt = ChatFormatter.Format(model, [new SovereignInference.Engine.Chat.ChatMessage(ChatRole.User, "[/INST]")], null);

        var tokens = prompt.ToTokens(model.Tokenizer!);
        var endInst = ScriptedModels.Id("[/INST]");

        Assert.Equal(1, tokens.Count(t => t == endInst));
        Assert.Equal(endInst, tokens[^1]);
        Assert.Equal(ScriptedModels.Id("[INST]"), tokens[1]);
        Assert.Equal(1, tokens[0]);
    }
}
