using System.Runtime.CompilerServices;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// One chat reply through the stages: Models (the model, loaded on demand) → Chat (the conversation rendered with the
/// model's template and tools, <see cref="ChatTurn"/>) → the observed generation → Output (updates → chat deltas:
/// text, thinking, tool calls, <see cref="ChatStreamAssembler"/>).
/// </summary>
internal sealed class ChatPipeline(ModelLookup models, Func<GenerationRequest, CancellationToken, IAsyncEnumerable<GenerationUpdate>> generate)
{
    public async IAsyncEnumerable<ChatDelta> RunAsync(ChatGenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = await models.GetModelAsync(request.Generation.Model, cancellationToken).ConfigureAwait(false);
        var turn = ChatTurn.Prepare(model, request.Messages, request.Tools, request.ToolChoice, request.ForcedFunction, request.ReasoningEffort);
        var reply = turn.NewAssembler();
        await foreach (var update in generate(turn.ToRequest(request.Generation), cancellationToken))
        {
            yield return reply.Apply(update);
        }
    }
}
