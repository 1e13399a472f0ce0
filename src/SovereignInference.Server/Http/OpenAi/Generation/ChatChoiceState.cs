using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>The delta one engine update adds to a chat choice.</summary>
internal readonly record struct ChatStep(string Content, IReadOnlyList<ToolCallDelta> ToolCalls, List<ChatTokenLogprob>? Logprobs, string Reasoning = "");

/// <summary>
/// One chat choice in OpenAI shapes: the engine's <see cref="ChatStreamAssembler"/> decides text versus tool calls;
/// this adds logprobs and the DTOs.
/// </summary>
internal sealed class ChatChoiceState(int index, ITokenizer tokenizer, ChatStreamAssembler assembler, bool logprobs)
{
    private readonly List<ChatTokenLogprob> _logprobs = [];

    public int Index { get; } = index;

    public FinishReason? Finish => assembler.Finish;

    public UsageInfo? Usage => assembler.Usage;

    /// <summary>The reply's answer text so far (v7+ formats may send text beside tool calls).</summary>
    public string Content => assembler.Content;

    /// <summary>The reply's thinking ([THINK]…[/THINK]) so far.</summary>
    public string Reasoning => assembler.Reasoning;

    /// <summary>The reply's tool calls (none when it is text).</summary>
    public IReadOnlyList<ChatToolCall> Calls => assembler.HasToolCalls ? assembler.Calls : [];

    /// <summary>Why the reply ended, in chat terms.</summary>
    public ChatFinish FinishKind => assembler.FinishReason;

    public ChatStep Apply(GenerationUpdate update)
    {
        var delta = assembler.Apply(update);
        List<ChatTokenLogprob>? lp = null;
        if (logprobs && update.Tokens.Count > 0)
        {
            lp = TokenText.Chat(tokenizer, update.Tokens);
            _logprobs.AddRange(lp);
        }

        return new ChatStep(delta.Content, delta.ToolCalls, lp, delta.Reasoning);
    }

    public string FinishReasonText => assembler.FinishReason switch
    {
        ChatFinish.Length => "length",
        ChatFinish.ToolCalls => "tool_calls",
        _ => "stop",
    };

    /// <param name="reasoningField">"reasoning_content" or "reasoning": where the thinking goes.</param>
    public ChatChoice ToChoice(string reasoningField = "reasoning_content")
    {
        var message = assembler.HasToolCalls
            ? new ChatMessageDto("assistant", assembler.Content.Length > 0 ? assembler.Content : null, [.. assembler.Calls.Select(c => new ToolCallDto(c.Id, new FunctionCallDto(c.Name, c.Arguments)))])
            : new ChatMessageDto("assistant", assembler.Content, null);
        var reasoning = assembler.Reasoning;
        if (reasoning.Length > 0)
        {
            message = reasoningField == "reasoning" ? message with { Reasoning = reasoning } : message with { ReasoningContent = reasoning };
        }

        return new(Index, message, logprobs ? new ChatLogprobs(_logprobs) : null, FinishReasonText);
    }

    public static ToolCallDeltaDto ToDto(ToolCallDelta d) => d.Name is not null
        ? new ToolCallDeltaDto(d.Index, d.Id, "function", new FunctionCallDto(d.Name, d.Arguments))
        : new ToolCallDeltaDto(d.Index, null, null, new FunctionCallDto(null, d.Arguments));
}
