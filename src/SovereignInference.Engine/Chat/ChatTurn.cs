using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// A conversation prepared for one assistant reply: the rendered prompt as token ids, and what it takes to read
/// the reply back (tool-call detection). <see cref="InferenceEngine.ChatAsync"/> goes <see cref="Prepare"/> →
/// <see cref="ToRequest"/> → <see cref="InferenceEngine.GenerateAsync"/> → <see cref="NewAssembler"/>; the transports
/// call it, and use <see cref="Prepare"/> alone only to show a rendered prompt (apply-template, token counts).
/// </summary>
public sealed class ChatTurn
{
    private static readonly string[] ThinkTokens = ["[THINK]", "[/THINK]"];
    private static readonly string[] ToolTokens = ["[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"];
    private readonly string _prefill;
    private readonly bool _sentencePiece;
    private readonly bool _argsFormat;
    private readonly IReadOnlyDictionary<int, string>? _controlText;

    private ChatTurn(ChatPrompt prompt, int[] promptTokens, string prefill, bool sentencePiece, bool argsFormat, IReadOnlyDictionary<int, string>? controlText, GrammarSpec? grammar)
    {
        Grammar = grammar;
        Prompt = prompt;
        PromptTokens = promptTokens;
        _prefill = prefill;
        _sentencePiece = sentencePiece;
        _argsFormat = argsFormat;
        _controlText = controlText;
    }

    /// <summary>The rendered prompt.</summary>
    public ChatPrompt Prompt { get; }

    /// <summary>The prompt as token ids (BOS and control tokens included).</summary>
    public IReadOnlyList<int> PromptTokens { get; }

    /// <summary>
    /// With tools: the grammar that makes the reply's calls valid (<see cref="ToolCallGrammar"/>): from the start for a
    /// forced call, lazily from the [TOOL_CALLS] token for "auto"; else null.
    /// </summary>
    public GrammarSpec? Grammar { get; }

    /// <summary>Renders <paramref name="messages"/> for <paramref name="model"/> and tokenizes the result.</summary>
    /// <param name="model">A ready model (<see cref="InferenceEngine.GetReadyModel"/>).</param>
    /// <param name="messages">The conversation, oldest first; a final assistant message is continued by the reply.</param>
    /// <param name="tools">Tools the model may call; null or empty when tools are off.</param>
    /// <param name="toolChoice">How the reply may use them: <see cref="ToolChoiceMode.None"/> hides them; Required and Named force a call.</param>
    /// <param name="forcedFunction">With <see cref="ToolChoiceMode.Named"/>: the function the reply must call.</param>
    /// <param name="reasoningEffort">OpenAI reasoning_effort (none, minimal, low, medium, high), mapped to the format (v15 [MODEL_SETTINGS]); null to leave it out.</param>
    /// <exception cref="EngineException">InvalidArgument ("messages" / "tools" / "model") when the conversation cannot be rendered.</exception>
    public static ChatTurn Prepare(
        ModelEntry model,
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<ToolDefinition>? tools,
        ToolChoiceMode toolChoice = ToolChoiceMode.Auto,
        string? forcedFunction = null,
        string? reasoningEffort = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokenizer = model.ReadyTokenizer();
        var toolsOn = tools is { Count: > 0 } && toolChoice != ToolChoiceMode.None;
        var forceToolCall = toolsOn && toolChoice is ToolChoiceMode.Required or ToolChoiceMode.Named;
        forcedFunction = toolsOn && toolChoice == ToolChoiceMode.Named ? forcedFunction : null;
        var prompt = ChatFormatter.Format(model, messages, toolsOn ? tools : null, forceToolCall, forcedFunction, MistralEffort(reasoningEffort));
        var version = prompt.Version;
        var argsFormat = version is { } v && MistralChatFormatter.UsesArgsToken(v);
        var controlText = version is null ? null : ControlTokens(tokenizer, toolsOn ? [.. ThinkTokens, .. ToolTokens] : ThinkTokens);
        var prefill = !forceToolCall ? ""
            : forcedFunction is null ? "[TOOL_CALLS]"
            : argsFormat ? "[TOOL_CALLS]" + forcedFunction + "[ARGS]"
            : "[TOOL_CALLS]" + MistralChatFormatter.ToolCallPrefill(forcedFunction);
        return new ChatTurn(
            prompt,
            prompt.ToTokens(tokenizer),
            prefill,
            string.Equals(model.Info?.VocabType, "llama", StringComparison.Ordinal),
            argsFormat,
            controlText,
            !toolsOn || version is not { } format ? null
                : forceToolCall ? ToolCallGrammar.For(format, tools!, forcedFunction)
                : LazyToolGrammar(format, tools!, controlText));
    }

    /// <summary>
    /// OpenAI's reasoning_effort as mistral-common's ReasoningEffort (none or high): none and minimal → none,
    /// low, medium and high → high.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument ("reasoning_effort") for any other value.</exception>
    public static string? MistralEffort(string? reasoningEffort) => reasoningEffort switch
    {
        null => null,
        "none" or "minimal" => "none",
        "low" or "medium" or "high" => "high",
        _ => throw EngineException.Invalid("reasoning_effort", $"must be one of none, minimal, low, medium, high (got '{reasoningEffort}')"),
    };

    /// <summary>
    /// <paramref name="request"/> (model, sampling, limits, user) with this turn's prompt tokens as its prompt and
    /// the reply's control tokens written as their names for the reply parser; a forced call's grammar replaces the
    /// request's, the lazy "auto" grammar applies when the request has none (response_format wins).
    /// </summary>
    public GenerationRequest ToRequest(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var grammar = Grammar is { TriggerToken: null } ? Grammar : request.Grammar ?? Grammar;
        return request with { Prompt = null, PromptTokens = PromptTokens, AddBos = false, ParseSpecialTokens = true, ControlText = _controlText, Grammar = grammar };
    }

    /// <summary>A fresh reader for one reply to this turn (one per choice when several are sampled).</summary>
    public ChatStreamAssembler NewAssembler() => new(_argsFormat, _prefill, stripLeadingSpace: _sentencePiece, promptTokens: PromptTokens.Count);

    /// <summary>The "auto" grammar: free text, or calls as "required" makes them once the model writes [TOOL_CALLS].</summary>
    private static GrammarSpec? LazyToolGrammar(MistralTemplateVersion format, IReadOnlyList<ToolDefinition> tools, Dictionary<int, string>? controlText)
    {
        var trigger = controlText?.FirstOrDefault(p => p.Value == "[TOOL_CALLS]");
        return trigger is { Value: not null } t ? ToolCallGrammar.For(format, tools, null) with { TriggerToken = t.Key } : null;
    }

    /// <summary>The ids of those <paramref name="names"/> that are one control token in this vocabulary.</summary>
    private static Dictionary<int, string> ControlTokens(Abstractions.ITokenizer tokenizer, IEnumerable<string> names)
    {
        var map = new Dictionary<int, string>();
        foreach (var name in names)
        {
            var ids = tokenizer.Tokenize(name, addBos: false, parseSpecial: true);
            if (ids.Length == 1 && tokenizer.GetPieceBytes(ids[0]).IsEmpty)
            {
                map[ids[0]] = name;
            }
        }

        return map;
    }
}
