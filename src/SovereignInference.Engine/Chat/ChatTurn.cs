using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// A conversation prepared for one assistant reply: the rendered prompt as token ids, and what it takes to read
/// the reply back (tool-call detection). The HTTP and gRPC chat adapters both go chat request → <see cref="Prepare"/>
/// → <see cref="ToRequest"/> → <see cref="InferenceEngine.GenerateAsync"/> → <see cref="NewAssembler"/>.
/// </summary>
public sealed class ChatTurn
{
    private readonly int _toolCallsToken;
    private readonly string _prefill;
    private readonly bool _sentencePiece;

    private ChatTurn(ChatPrompt prompt, int[] promptTokens, int toolCallsToken, string prefill, bool sentencePiece)
    {
        Prompt = prompt;
        PromptTokens = promptTokens;
        _toolCallsToken = toolCallsToken;
        _prefill = prefill;
        _sentencePiece = sentencePiece;
    }

    /// <summary>The rendered prompt.</summary>
    public ChatPrompt Prompt { get; }

    /// <summary>The prompt as token ids (BOS and control tokens included).</summary>
    public IReadOnlyList<int> PromptTokens { get; }

    /// <summary>Renders <paramref name="messages"/> for <paramref name="model"/> and tokenizes the result.</summary>
    /// <param name="model">A ready model (<see cref="InferenceEngine.GetReadyModel"/>).</param>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="tools">Tools the model may call; null or empty when tools are off.</param>
    /// <param name="toolChoice">How the reply may use them: <see cref="ToolChoiceMode.None"/> hides them; Required and Named force a call.</param>
    /// <param name="forcedFunction">With <see cref="ToolChoiceMode.Named"/>: the function the reply must call.</param>
    /// <exception cref="EngineException">InvalidArgument ("messages" / "tools") when the conversation cannot be rendered.</exception>
    public static ChatTurn Prepare(
        ModelEntry model,
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<ToolDefinition>? tools,
        ToolChoiceMode toolChoice = ToolChoiceMode.Auto,
        string? forcedFunction = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokenizer = model.Tokenizer ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{model.Id}' is not ready", "model");
        var toolsOn = tools is { Count: > 0 } && toolChoice != ToolChoiceMode.None;
        var forceToolCall = toolChoice is ToolChoiceMode.Required or ToolChoiceMode.Named;
        forcedFunction = toolChoice == ToolChoiceMode.Named ? forcedFunction : null;
        var prompt = ChatFormatter.Format(model, messages, toolsOn ? tools : null, toolsOn && forceToolCall, toolsOn ? forcedFunction : null);
        return new ChatTurn(
            prompt,
            prompt.ToTokens(tokenizer),
            toolsOn ? ChatPrompt.ToolCallsToken(tokenizer) : -1,
            MistralChatFormatter.ToolCallPrefill(toolsOn ? forcedFunction : null),
            string.Equals(model.Info?.VocabType, "llama", StringComparison.Ordinal));
    }

    /// <summary>
    /// <paramref name="request"/> (model, sampling, limits, user) with this turn's prompt tokens as its prompt.
    /// </summary>
    public GenerationRequest ToRequest(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request with { Prompt = null, PromptTokens = PromptTokens, AddBos = false, ParseSpecialTokens = true };
    }

    /// <summary>A fresh reader for one reply to this turn (one per choice when several are sampled).</summary>
    public ChatStreamAssembler NewAssembler() => new(_toolCallsToken, Prompt.ToolCallsOpened, _prefill, stripLeadingSpace: _sentencePiece);
}
