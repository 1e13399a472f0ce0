using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>
/// The one chat engine call behind every chat-shaped API (chat completions, Responses, Anthropic Messages): the caller
/// from the API key, the model, the prepared turn (template, tools, reasoning effort), one
/// <see cref="ChatChoiceState"/> per choice and the running streams. Disposing cancels what still runs.
/// </summary>
internal sealed class ChatCall : IAsyncDisposable
{
    private ChatCall(CommonParameters common, ChatTurn turn, ChatChoiceState[] choices, ChoiceStreams streams)
    {
        Common = common;
        Turn = turn;
        Choices = choices;
        Streams = streams;
    }

    /// <summary>The request's common parameters, with the user taken from the API key when there is one.</summary>
    public CommonParameters Common { get; }

    public ChatTurn Turn { get; }

    public IReadOnlyList<ChatChoiceState> Choices { get; }

    public ChoiceStreams Streams { get; }

    /// <summary>Starts the n choices of <paramref name="request"/>; validation and admission errors surface here, before any byte is sent.</summary>
    public static async Task<ChatCall> StartAsync(HttpContext context, InferenceEngine engine, ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(request);
        var common = request.Common with { User = RequestIdentity.UserFor(context, request.Common.User) };
        var model = await engine.GetModelAsync(common.Model, context.RequestAborted);
        var turn = ChatTurn.Prepare(model, request.Messages, request.Tools, request.ToolChoice, request.ToolName, request.ReasoningEffort);
        var choices = Enumerable.Range(0, common.N)
            .Select(i => new ChatChoiceState(i, model.ReadyTokenizer(), turn.NewAssembler(), common.Sampling.Logprobs))
            .ToArray();
        var streams = await ChoiceStreams.StartAsync(
            engine,
            [.. Enumerable.Range(0, common.N).Select(i => turn.ToRequest(common.ToRequest(i, null, null) with { Grammar = request.Grammar }))],
            context.RequestAborted);
        return new ChatCall(common, turn, choices, streams);
    }

    public ValueTask DisposeAsync() => Streams.DisposeAsync();
}
