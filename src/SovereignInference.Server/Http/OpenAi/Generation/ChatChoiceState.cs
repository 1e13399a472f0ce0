using System.Text;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>The delta one engine update adds to a chat choice.</summary>
internal readonly record struct ChatStep(string Content, IReadOnlyList<ToolCallDelta> ToolCalls, List<ChatTokenLogprob>? Logprobs, string Reasoning = "");

/// <summary>
/// One chat choice in OpenAI shapes: the engine's chat deltas (<see cref="Engine.Hosting.InferenceEngine.ChatAsync"/>)
/// decide text versus tool calls; this adds logprobs and the DTOs.
/// </summary>
internal sealed class ChatChoiceState(int index, ITokenizer tokenizer, bool logprobs)
{
    private readonly List<ChatTokenLogprob> _logprobs = [];
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private ChatEnd? _end;

    public int Index { get; } = index;

    public FinishReason? Finish => _end?.Finish;

    public UsageInfo? Usage => _end?.Usage;

    /// <summary>The reply's answer text so far (v7+ formats may send text beside tool calls).</summary>
    public string Content => _content.ToString();

    /// <summary>The reply's thinking ([THINK]…[/THINK]) so far.</summary>
    public string Reasoning => _reasoning.ToString();

    /// <summary>The reply's tool calls, once it ended (none when it is text).</summary>
    public IReadOnlyList<ChatToolCall> Calls => _end?.ToolCalls ?? [];

    /// <summary>Why the reply ended, in chat terms.</summary>
    public ChatFinish FinishKind => _end?.Reason ?? ChatFinish.Stop;

    /// <summary>The stop string that ended the reply, if any.</summary>
    public string? MatchedStop => _end?.MatchedStop;

    public ChatStep Apply(Engine.Output.ChatDelta delta)
    {
        _content.Append(delta.Content);
        _reasoning.Append(delta.Reasoning);
        _end ??= delta.End;
        List<ChatTokenLogprob>? lp = null;
        if (logprobs && delta.Tokens.Count > 0)
        {
            lp = TokenText.Chat(tokenizer, delta.Tokens);
            _logprobs.AddRange(lp);
        }

        return new ChatStep(delta.Content, delta.ToolCalls, lp, delta.Reasoning);
    }

    public string FinishReasonText => FinishKind switch
    {
        ChatFinish.Length => "length",
        ChatFinish.ToolCalls => "tool_calls",
        _ => "stop",
    };

    /// <param name="reasoningField">"reasoning_content" or "reasoning": where the thinking goes.</param>
    public ChatChoice ToChoice(string reasoningField = "reasoning_content")
    {
        var content = Content;
        var message = _end?.HasToolCalls == true
            ? new ChatMessageDto("assistant", content.Length > 0 ? content : null, [.. Calls.Select(c => new ToolCallDto(c.Id, new FunctionCallDto(c.Name, c.Arguments)))])
            : new ChatMessageDto("assistant", content, null);
        var reasoning = Reasoning;
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
