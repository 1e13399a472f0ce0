using System.Text;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Hosting;

/// <summary>
/// One real engine (llama.cpp CPU) over three scripted chat models: "scripted" answers " Hello world!", "tools" calls
/// get_weather for Paris, "loop" writes " a b a b …" until stopped.
/// </summary>
public sealed class ChatEngineFixture : IAsyncLifetime
{
    public EngineHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var loop = TestModels.Scripted(new ScriptedModelSpec { Name = "sovereign-engine-chat-loop", Transitions = ScriptedModelSpec.Chain("[/INST]", "▁a", "▁b", "▁a") });
        var tools = TestModels.Scripted(OpenAiTestSupport.ToolSpec);
        var paths = new[] { ("scripted", ScriptedModels.Engine.Path), ("tools", tools.Path), ("loop", loop.Path) };
        Harness = await EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [.. paths.Select(p => p.Item2)],
            Aliases = paths.ToDictionary(p => Path.GetFileName(p.Item2), p => p.Item1),
            Parallel = 2,
            CtxSize = 1024,
        });
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// <see cref="InferenceEngine.ChatAsync"/>, the one chat call every chat transport adapts: a conversation in, chat
/// deltas out (text, tool calls, the end with its reason), on the real engine.
/// </summary>
public sealed class ChatCallTests(ChatEngineFixture fixture) : IClassFixture<ChatEngineFixture>
{
    private static readonly ToolDefinition Weather = new("get_weather", "Current weather of a city", """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");

    private InferenceEngine Engine => fixture.Harness.Engine;

    private static ChatGenerationRequest Chat(string model, string user, IReadOnlyList<string>? stop = null, int? maxTokens = null) => new()
    {
        Generation = new GenerationRequest { Model = model, Stop = stop ?? [], MaxTokens = maxTokens, Sampling = SamplingParams.Greedy },
        Messages = [new ChatMessage(ChatRole.User, user)],
    };

    private async Task<List<ChatDelta>> RunAsync(ChatGenerationRequest request)
    {
        var deltas = new List<ChatDelta>();
        await foreach (var delta in Engine.ChatAsync(request))
        {
            deltas.Add(delta);
        }

        return deltas;
    }

    [Fact]
    public async Task A_plain_reply_arrives_as_content_deltas_one_per_update_and_ends_with_stop()
    {
        var deltas = await RunAsync(Chat("scripted", "Say hello"));

        // The reply's first piece carries SentencePiece's dummy-prefix space, which chat drops.
        Assert.Equal("Hello world!", string.Concat(deltas.Select(d => d.Content)));
        Assert.Equal(
            new[] { ScriptedModels.Id("▁Hello"), ScriptedModels.Id("▁world"), ScriptedModels.Id("!") },
            deltas.SelectMany(d => d.Tokens).Select(t => t.Token));
        Assert.All(deltas, d => Assert.Empty(d.ToolCalls));
        Assert.All(deltas[..^1], d => Assert.Null(d.End));
        Assert.True(deltas.Count(d => d.Content.Length > 0) >= 2, "the text streams in several deltas");

        var end = deltas[^1].End!;
        Assert.Equal(ChatFinish.Stop, end.Reason);
        Assert.Equal(FinishReason.Stop, end.Finish);
        Assert.Null(end.MatchedStop);
        Assert.Equal("Hello world!", end.Content);
        Assert.False(end.HasToolCalls);
        Assert.Empty(end.ToolCalls);
        Assert.Equal(3, end.Usage!.CompletionTokens);
        Assert.NotNull(end.Timings);
        Assert.True(end.Usage.PromptTokens > 3, $"the rendered prompt has {end.Usage.PromptTokens} tokens");
        Assert.All(deltas, d => Assert.Equal(end.Usage.PromptTokens, d.PromptTokens));
    }

    [Fact]
    public async Task The_same_conversation_gives_the_same_tokens_as_generating_from_its_rendered_prompt()
    {
        var model = Engine.GetReadyModel("scripted");
        var turn = ChatTurn.Prepare(model, [new ChatMessage(ChatRole.User, "Say hello")], null);
        var direct = await fixture.Harness.RunAsync(turn.ToRequest(new GenerationRequest { Model = "scripted", Sampling = SamplingParams.Greedy }));

        var deltas = await RunAsync(Chat("scripted", "Say hello"));

        Assert.Equal(direct.Tokens, deltas.SelectMany(d => d.Tokens).Select(t => t.Token).ToArray());
        Assert.Equal(direct.Final.Usage!.PromptTokens, deltas[^1].End!.Usage!.PromptTokens);
    }

    [Fact]
    public async Task A_tool_call_arrives_as_incremental_tool_call_deltas_and_ends_with_tool_calls()
    {
        var request = Chat("tools", "What is the weather in Paris?") with { Tools = [Weather] };

        var deltas = await RunAsync(request);

        var increments = deltas.SelectMany(d => d.ToolCalls).ToList();
        Assert.All(increments, d => Assert.Equal(0, d.Index));
        var header = increments.First(d => d.Name is not null);
        Assert.Equal("get_weather", header.Name);
        Assert.True(ToolCallIds.IsMistralId(header.Id), header.Id);
        Assert.Equal("{\"city\": \"Paris\"}", string.Concat(increments.Select(d => d.Arguments)));
        Assert.True(increments.Count(d => d.Arguments.Length > 0) >= 2, "arguments stream in fragments");
        Assert.Equal("", string.Concat(deltas.Select(d => d.Content)));

        var end = deltas[^1].End!;
        Assert.Equal(ChatFinish.ToolCalls, end.Reason);
        Assert.Equal(FinishReason.Stop, end.Finish);
        Assert.True(end.HasToolCalls);
        var call = Assert.Single(end.ToolCalls);
        Assert.Equal((header.Id, "get_weather", "{\"city\": \"Paris\"}"), (call.Id, call.Name, call.Arguments));
    }

    [Fact]
    public async Task Tool_choice_none_leaves_the_same_output_as_text()
    {
        var request = Chat("tools", "What is the weather in Paris?") with { Tools = [Weather], ToolChoice = ToolChoiceMode.None };

        var deltas = await RunAsync(request);

        Assert.Empty(deltas.SelectMany(d => d.ToolCalls));
        Assert.Equal("[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]", deltas[^1].End!.Content);
        Assert.Equal(ChatFinish.Stop, deltas[^1].End!.Reason);
    }

    [Fact]
    public async Task A_stop_string_ends_the_reply_is_never_sent_and_is_reported()
    {
        var deltas = await RunAsync(Chat("scripted", "Say hello", stop: ["world"]));

        Assert.Equal("Hello ", string.Concat(deltas.Select(d => d.Content)));
        var end = deltas[^1].End!;
        Assert.Equal(ChatFinish.Stop, end.Reason);
        Assert.Equal(FinishReason.Stop, end.Finish);
        Assert.Equal("world", end.MatchedStop);
        Assert.Equal("Hello ", end.Content);
    }

    [Fact]
    public async Task Max_tokens_ends_the_reply_with_length()
    {
        var deltas = await RunAsync(Chat("loop", "Go on", maxTokens: 5));

        var end = deltas[^1].End!;
        Assert.Equal(ChatFinish.Length, end.Reason);
        Assert.Equal(FinishReason.Length, end.Finish);
        Assert.Equal(5, end.Usage!.CompletionTokens);
        Assert.Equal("a b a b a", end.Content);
    }

    [Fact]
    public async Task Cancelling_the_call_ends_it_with_OperationCanceledException_and_frees_the_sequence()
    {
        using var cts = new CancellationTokenSource();
        var received = new StringBuilder();
        var deltas = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var delta in Engine.ChatAsync(Chat("loop", "Go on"), cts.Token))
            {
                Assert.Null(delta.End);
                received.Append(delta.Content);
                if (++deltas == 4)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.StartsWith("a b", received.ToString(), StringComparison.Ordinal);
        await EngineHarness.WaitUntilAsync(() => Engine.ActiveSequences == 0, TimeSpan.FromSeconds(30), "the cancelled sequence is gone");
    }

    [Fact]
    public async Task Bad_requests_fail_at_the_first_MoveNext_before_any_delta()
    {
        var unknown = await Assert.ThrowsAsync<EngineException>(() => RunAsync(Chat("no-such-model", "hi")));
        Assert.Equal(EngineErrorCode.ModelNotFound, unknown.Code);

        var notRenderable = await Assert.ThrowsAsync<EngineException>(() => RunAsync(Chat("scripted", "hi") with { Messages = [] }));
        Assert.Equal(EngineErrorCode.InvalidArgument, notRenderable.Code);

        var badSampling = await Assert.ThrowsAsync<EngineException>(() => RunAsync(Chat("scripted", "hi", maxTokens: 0)));
        Assert.Equal(("max_tokens", EngineErrorCode.InvalidArgument), (badSampling.Param, badSampling.Code));
    }
}
