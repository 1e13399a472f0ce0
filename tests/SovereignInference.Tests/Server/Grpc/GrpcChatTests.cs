using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using OpenAI.Chat;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Chat;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;
using ChatMessage = SovereignInference.Contracts.V1.ChatMessage;
using ChatRole = SovereignInference.Contracts.V1.ChatRole;
using FinishReason = SovereignInference.Contracts.V1.FinishReason;
using StatusCode = Grpc.Core.StatusCode;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>The Chat RPC over Grpc.Net.Client: the same engine chat formatter and reply assembler as HTTP chat.</summary>
public sealed class GrpcChatTests
{
    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "Current weather of a city",
        ParametersJson = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""",
    };

    [Fact]
    public async Task Chat_streams_the_scripted_reply_and_ends_with_stop_usage_and_timings()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var stream = await GrpcTestClient.ReadAllAsync(client.Chat(GrpcTestClient.GreedyChat("scripted", (ChatRole.System, "Be brief."), (ChatRole.User, "Hi"))));

        Assert.Equal("Hello world!", stream.Text);
        Assert.Empty(stream.ToolCallDeltas);
        Assert.Empty(stream.Last.ToolCalls);
        Assert.All(stream.Responses.SkipLast(1), r => Assert.Null(r.Final));
        Assert.True(stream.Responses.Count > 1, "the reply arrived in one piece instead of streaming");
        var final = stream.Final;
        Assert.Equal(FinishReason.Stop, final.FinishReason);
        Assert.Equal(3, final.Usage.CompletionTokens);
        Assert.True(final.Usage.PromptTokens > 3);
        Assert.Equal(final.Usage.PromptTokens + final.Usage.CompletionTokens, final.Usage.TotalTokens);
        Assert.NotNull(final.Timings.TimeToFirstToken);
    }

    [Fact]
    public async Task Greedy_grpc_chat_text_equals_http_chat_text_for_the_same_messages()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.TinyAndScripted());
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        var openAi = OpenAiTestSupport.Client(server);
        var conversations = new (ChatRole Role, string Content)[][]
        {
            [(ChatRole.User, "Hello world")],
            [(ChatRole.System, "You are a test model."), (ChatRole.User, "Say something")],
            [(ChatRole.User, "Hi"), (ChatRole.Assistant, "Hello there"), (ChatRole.User, "and again é€")],
        };

        foreach (var model in new[] { "tiny", "scripted" })
        {
            foreach (var conversation in conversations)
            {
                var request = GrpcTestClient.GreedyChat(model, conversation);
                request.Sampling.MaxTokens = 24;
                var viaGrpc = await GrpcTestClient.ReadAllAsync(grpc.Chat(request));

                var viaHttp = (await openAi.GetChatClient(model).CompleteChatAsync(
                    conversation.Select(ToOpenAi),
                    new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 })).Value;

                Assert.Equal(viaHttp.Content.Count == 0 ? "" : viaHttp.Content[0].Text, viaGrpc.Text);
                Assert.Equal(viaHttp.Usage.InputTokenCount, viaGrpc.Final.Usage.PromptTokens);
                Assert.Equal(viaHttp.Usage.OutputTokenCount, viaGrpc.Final.Usage.CompletionTokens);
                Assert.Equal(viaHttp.FinishReason == OpenAI.Chat.ChatFinishReason.Length ? FinishReason.Length : FinishReason.Stop, viaGrpc.Final.FinishReason);
            }
        }

        // The random model's greedy reply is not empty: the comparison above compared real text.
        var sample = GrpcTestClient.GreedyChat("tiny", conversations[0]);
        sample.Sampling.MaxTokens = 24;
        Assert.NotEqual("", (await GrpcTestClient.ReadAllAsync(grpc.Chat(sample))).Text);
    }

    [Fact]
    public async Task Tool_call_round_trip_streams_deltas_and_takes_the_result_back()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = GrpcTestClient.GreedyChat("tools", (ChatRole.User, "What is the weather in Paris?"));
        request.Tools.Add(Weather);

        var first = await GrpcTestClient.ReadAllAsync(client.Chat(request));

        Assert.Equal("", first.Text);
        Assert.Equal(FinishReason.ToolCalls, first.Final.FinishReason);
        var deltas = first.ToolCallDeltas;
        Assert.All(deltas, d => Assert.Equal(0, d.Index));
        Assert.Equal("get_weather", deltas[0].Name);
        Assert.True(ToolCallIds.IsMistralId(deltas[0].Id));
        Assert.All(deltas.Skip(1), d => Assert.Equal("", d.Id + d.Name));
        Assert.True(deltas.Count(d => d.ArgumentsFragment.Length > 0) > 1, "the arguments arrived in one piece instead of streaming");
        var streamedArguments = string.Concat(deltas.Select(d => d.ArgumentsFragment));
        var call = Assert.Single(first.Last.ToolCalls);
        Assert.Equal(deltas[0].Id, call.Id);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(call.ArgumentsJson, streamedArguments);
        using (var args = JsonDocument.Parse(streamedArguments))
        {
            Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
        }

        request.Messages.Add(new ChatMessage { Role = ChatRole.Assistant, ToolCalls = { call } });
        request.Messages.Add(new ChatMessage { Role = ChatRole.Tool, ToolCallId = call.Id, Content = """{"temperature": 21, "sky": "sunny"}""" });
        var second = await GrpcTestClient.ReadAllAsync(client.Chat(request));

        Assert.Equal("Sunny in Paris.", second.Text);
        Assert.Equal(FinishReason.Stop, second.Final.FinishReason);
        Assert.Empty(second.ToolCallDeltas);
        Assert.Empty(second.Last.ToolCalls);
    }

    [Fact]
    public async Task Tool_choice_none_hides_the_tools_and_required_or_a_named_function_forces_a_call_as_over_http()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        ChatRequest Ask(ToolChoice choice, string function = "")
        {
            var request = GrpcTestClient.GreedyChat("tools", (ChatRole.User, "Weather?"));
            request.Tools.Add(Weather);
            request.ToolChoice = choice;
            request.ToolChoiceFunction = function;
            return request;
        }

        // None: the tools are not in the prompt, so the scripted model's call comes out as plain text (as HTTP's "none").
        var none = await GrpcTestClient.ReadAllAsync(client.Chat(Ask(ToolChoice.None)));
        Assert.Equal(FinishReason.Stop, none.Final.FinishReason);
        Assert.Empty(none.ToolCallDeltas);
        Assert.Equal("[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]", none.Text);

        foreach (var choice in new[] { ToolChoice.Auto, ToolChoice.Required })
        {
            var called = await GrpcTestClient.ReadAllAsync(client.Chat(Ask(choice)));
            Assert.Equal(FinishReason.ToolCalls, called.Final.FinishReason);
            Assert.Equal("get_weather", Assert.Single(called.Last.ToolCalls).Name);
        }

        // A named function: the prompt already opens the call with its name and a grammar makes the model write
        // arguments that follow the tool's schema, so the reply is always a complete call (as over HTTP).
        var named = await GrpcTestClient.ReadAllAsync(client.Chat(Ask(ToolChoice.Function, "get_weather")));
        Assert.Equal("get_weather", named.ToolCallDeltas[0].Name);
        Assert.Equal(FinishReason.ToolCalls, named.Final.FinishReason);
        var call = Assert.Single(named.Last.ToolCalls);
        Assert.Equal("{\"city\": \"Paris\"}", call.ArgumentsJson);
        Assert.Equal("", named.Text);
    }

    [Fact]
    public async Task Grpc_and_http_tool_calls_agree()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        using var channel = GrpcTestClient.Channel(server);
        var request = GrpcTestClient.GreedyChat("tools", (ChatRole.User, "Weather?"));
        request.Tools.Add(Weather);
        var viaGrpc = await GrpcTestClient.ReadAllAsync(new Inference.InferenceClient(channel).Chat(request));

        var viaHttp = (await OpenAiTestSupport.Client(server).GetChatClient("tools").CompleteChatAsync(
            [new UserChatMessage("Weather?")],
            new ChatCompletionOptions { Temperature = 0, Tools = { ChatTool.CreateFunctionTool(Weather.Name, Weather.Description, BinaryData.FromString(Weather.ParametersJson)) } })).Value;

        var grpcCall = Assert.Single(viaGrpc.Last.ToolCalls);
        var httpCall = Assert.Single(viaHttp.ToolCalls);
        Assert.Equal(httpCall.FunctionName, grpcCall.Name);
        Assert.Equal(httpCall.FunctionArguments.ToString(), grpcCall.ArgumentsJson);
        Assert.Equal(viaHttp.Usage.InputTokenCount, viaGrpc.Final.Usage.PromptTokens);
    }

    public static TheoryData<string, string> BadConversations => new()
    {
        { "only an assistant message", "assistant" },
        { "ends with a system message", "user,system" },
        { "tool result without its call", "user,tool" },
    };

    [Theory]
    [MemberData(nameof(BadConversations))]
    public async Task A_conversation_the_template_cannot_express_is_INVALID_ARGUMENT_naming_messages(string name, string roles)
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = new ChatRequest { Model = "scripted", Sampling = new SamplingParams { Temperature = 0 } };
        foreach (var role in roles.Split(','))
        {
            request.Messages.Add(role switch
            {
                "system" => new ChatMessage { Role = ChatRole.System, Content = "Be brief." },
                "user" => new ChatMessage { Role = ChatRole.User, Content = "Hi" },
                "assistant" => new ChatMessage { Role = ChatRole.Assistant, Content = "Hello" },
                "tool" => new ChatMessage { Role = ChatRole.Tool, ToolCallId = "abcDEF123", Content = "sunny" },
                _ => throw new ArgumentOutOfRangeException(nameof(roles), roles, name),
            });
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Chat(request)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("messages", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("messages", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        var ok = await GrpcTestClient.ReadAllAsync(client.Chat(GrpcTestClient.GreedyChat("scripted", (ChatRole.User, "Hi"))));
        Assert.Equal("Hello world!", ok.Text);
    }

    [Fact]
    public async Task Chat_field_errors_name_the_field()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var cases = new (ChatRequest Request, string Field)[]
        {
            (new ChatRequest { Model = "scripted" }, "messages"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Content = "Hi" } } }, "messages[0].role"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, Tools = { new Tool() } }, "tools[0].name"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, JsonSchema = """{"type":"string","pattern":"a+"}""" }, "response_format"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, JsonSchema = "{not json" }, "response_format"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, ToolChoice = ToolChoice.Required }, "tool_choice"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, Tools = { Weather }, ToolChoice = ToolChoice.Function, ToolChoiceFunction = "get_time" }, "tool_choice_function"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, Tools = { Weather }, ToolChoice = ToolChoice.Function }, "tool_choice_function"),
            (new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "Hi" } }, Tools = { Weather }, ToolChoiceFunction = "get_weather" }, "tool_choice_function"),
        };

        foreach (var (request, field) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Chat(request)));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal(field, Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        }
    }

    private static OpenAI.Chat.ChatMessage ToOpenAi((ChatRole Role, string Content) m) => m.Role switch
    {
        ChatRole.System => new SystemChatMessage(m.Content),
        ChatRole.User => new UserChatMessage(m.Content),
        ChatRole.Assistant => new AssistantChatMessage(m.Content),
        _ => throw new ArgumentOutOfRangeException(nameof(m), m.Role, "unexpected role"),
    };
}
