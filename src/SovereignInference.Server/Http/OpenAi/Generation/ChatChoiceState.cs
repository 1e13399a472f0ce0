using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>The delta one engine update adds to a chat choice.</summary>
internal readonly record struct ChatStep(string Content, IReadOnlyList<ToolCallDelta> ToolCalls, List<ChatTokenLogprob>? Logprobs);

/// <summary>
/// Follows one chat choice: plain text, or — when the first generated token is [TOOL_CALLS] (found by id, its text
/// is empty) or the prompt opened the call — tool calls parsed as they stream. Output that turns out not to be
/// valid tool-call JSON is handed back as text.
/// </summary>
internal sealed class ChatChoiceState(int index, ITokenizer tokenizer, int toolCallsToken, bool toolCallsOpened, string prefill, bool logprobs)
{
    private readonly System.Text.StringBuilder _content = new();
    private readonly List<ChatTokenLogprob> _logprobs = [];
    private bool _decided;

    public int Index { get; } = index;

    public ToolCallStreamParser? Parser { get; private set; }

    public FinishReason? Finish { get; private set; }

    public UsageInfo? Usage { get; private set; }

    public bool HasToolCalls => Parser is { StartedCalls: > 0 };

    public ChatStep Apply(GenerationUpdate update)
    {
        var tools = new List<ToolCallDelta>();
        if (!_decided && toolCallsOpened)
        {
            _decided = true;
            Parser = new ToolCallStreamParser();
            tools.AddRange(Parser.Push(prefill));
        }
        else if (!_decided && update.Tokens.Count > 0)
        {
            _decided = true;
            if (toolCallsToken >= 0 && update.Tokens[0].Token == toolCallsToken)
            {
                Parser = new ToolCallStreamParser();
            }
        }

        string content;
        if (Parser is not null)
        {
            tools.AddRange(Parser.Push(update.Text));
            content = "";
        }
        else
        {
            content = update.Text;
            _content.Append(content);
        }

        List<ChatTokenLogprob>? lp = null;
        if (logprobs && update.Tokens.Count > 0)
        {
            lp = TokenText.Chat(tokenizer, update.Tokens);
            _logprobs.AddRange(lp);
        }

        if (update.Finish is { } finish)
        {
            Finish = finish;
            Usage = update.Usage;
            if (Parser is not null && !HasToolCalls)
            {
                // Not tool-call JSON after all: the model's words are the answer.
                content = Parser.RawText;
                _content.Append(content);
                Parser = null;
            }
        }

        return new ChatStep(content, tools, lp);
    }

    public string FinishReasonText => Finish switch
    {
        FinishReason.Length => "length",
        _ when HasToolCalls => "tool_calls",
        _ => "stop",
    };

    public ChatChoice ToChoice() => new(
        Index,
        HasToolCalls
            ? new ChatMessageDto("assistant", null, [.. Parser!.Calls.Select(c => new ToolCallDto(c.Id, new FunctionCallDto(c.Name, c.Arguments)))])
            : new ChatMessageDto("assistant", _content.ToString(), null),
        logprobs ? new ChatLogprobs(_logprobs) : null,
        FinishReasonText);

    public static ToolCallDeltaDto ToDto(ToolCallDelta d) => d.Name is not null
        ? new ToolCallDeltaDto(d.Index, d.Id, "function", new FunctionCallDto(d.Name, d.Arguments))
        : new ToolCallDeltaDto(d.Index, null, null, new FunctionCallDto(null, d.Arguments));
}
