using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>
/// The chat engine call behind every chat-shaped API (chat completions, Responses, Anthropic Messages): the caller
/// from the API key, n <see cref="InferenceEngine.ChatAsync"/> calls (one per choice) and one
/// <see cref="ChatChoiceState"/> per choice that shapes their deltas. Disposing cancels what still runs.
/// </summary>
internal sealed class ChatCall : IAsyncDisposable
{
    private ChatCall(CommonParameters common, ChatChoiceState[] choices, ChoiceStreams<ChatDelta> streams)
    {
        Common = common;
        Choices = choices;
        Streams = streams;
    }

    /// <summary>The request's common parameters, with the user taken from the API key when there is one.</summary>
    public CommonParameters Common { get; }

    public IReadOnlyList<ChatChoiceState> Choices { get; }

    public ChoiceStreams<ChatDelta> Streams { get; }

    /// <summary>The rendered prompt's length in tokens.</summary>
    public int PromptTokens => Streams.Firsts[0]?.PromptTokens ?? 0;

    /// <summary>Starts the n choices of <paramref name="request"/>; validation and admission errors surface here, before any byte is sent.</summary>
    public static async Task<ChatCall> StartAsync(HttpContext context, InferenceEngine engine, ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(request);
        var common = request.Common with { User = RequestIdentity.UserFor(context, request.Common.User) };
        var model = await engine.GetModelAsync(common.Model, context.RequestAborted);
        var choices = Enumerable.Range(0, common.N)
            .Select(i => new ChatChoiceState(i, model.ReadyTokenizer(), common.Sampling.Logprobs))
            .ToArray();
        var streams = await ChoiceStreams<ChatDelta>.StartAsync(
            common.N,
            (i, cancellationToken) => engine.ChatAsync(
                new ChatGenerationRequest
                {
                    Generation = common.ToRequest(i, null, null) with { Grammar = request.Grammar },
                    Messages = request.Messages,
                    Tools = request.Tools,
                    ToolChoice = request.ToolChoice,
                    ForcedFunction = request.ToolName,
                    ReasoningEffort = request.ReasoningEffort,
                },
                cancellationToken),
            context.RequestAborted);
        return new ChatCall(common, choices, streams);
    }

    public ValueTask DisposeAsync() => Streams.DisposeAsync();
}
