using System.Text;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Turns the engine updates of one assistant reply into chat deltas, for any transport. The reply is plain
/// text, or — when its first generated token is [TOOL_CALLS] (recognised by id: its text is empty) or the prompt
/// already opened the call — tool calls, parsed by <see cref="ToolCallStreamParser"/> as they stream. Output that
/// turns out not to be tool-call JSON is handed back as text with the final update. One instance per reply; not
/// thread-safe. Create it with <see cref="ChatTurn.NewAssembler"/>.
/// </summary>
public sealed class ChatStreamAssembler
{
    private readonly int _toolCallsToken;
    private readonly bool _toolCallsOpened;
    private readonly string _prefill;
    private readonly bool _stripLeadingSpace;
    private readonly StringBuilder _content = new();
    private bool _textStarted;
    private ToolCallStreamParser? _parser;
    private bool _decided;

    /// <param name="toolCallsToken">Id of the [TOOL_CALLS] control token, or -1 when tools are off.</param>
    /// <param name="toolCallsOpened">The prompt ends in [TOOL_CALLS] (a forced call): the output is tool-call JSON from its first token.</param>
    /// <param name="prefill">Text the parser sees before the output when the prompt opened the call (the forced function's name).</param>
    /// <param name="stripLeadingSpace">
    /// Drop one space at the start of the reply's text: a SentencePiece vocabulary writes a word-initial piece
    /// with "▁", and the reply's first piece carries the dummy-prefix space that mistral-common's and Hugging
    /// Face's decoders drop.
    /// </param>
    public ChatStreamAssembler(int toolCallsToken, bool toolCallsOpened, string prefill, bool stripLeadingSpace = false)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        _toolCallsToken = toolCallsToken;
        _toolCallsOpened = toolCallsOpened;
        _prefill = prefill;
        _stripLeadingSpace = stripLeadingSpace;
    }

    /// <summary>The reply's text so far (empty while it is being parsed as tool calls).</summary>
    public string Content => _content.ToString();

    /// <summary>Tool calls whose JSON is complete.</summary>
    public IReadOnlyList<ChatToolCall> Calls => _parser?.Calls ?? [];

    /// <summary>The reply is (or is becoming) tool calls: at least one call's id and name were reported.</summary>
    public bool HasToolCalls => _parser is { StartedCalls: > 0 };

    /// <summary>The engine's finish reason, once the final update was applied.</summary>
    public FinishReason? Finish { get; private set; }

    /// <summary>Token counts, from the final update.</summary>
    public UsageInfo? Usage { get; private set; }

    /// <summary>Why the reply ended: length wins, then tool calls, else stop. Meaningful once <see cref="Finish"/> is set.</summary>
    public ChatFinish FinishReason => Finish switch
    {
        Requests.FinishReason.Length => ChatFinish.Length,
        _ when HasToolCalls => ChatFinish.ToolCalls,
        _ => ChatFinish.Stop,
    };

    /// <summary>Feeds one engine update; returns what it adds to the reply.</summary>
    public ChatDelta Apply(GenerationUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var tools = new List<ToolCallDelta>();
        if (!_decided && _toolCallsOpened)
        {
            _decided = true;
            _parser = new ToolCallStreamParser();
            tools.AddRange(_parser.Push(_prefill));
        }
        else if (!_decided && update.Tokens.Count > 0)
        {
            _decided = true;
            if (_toolCallsToken >= 0 && update.Tokens[0].Token == _toolCallsToken)
            {
                _parser = new ToolCallStreamParser();
            }
        }

        string content;
        if (_parser is not null)
        {
            tools.AddRange(_parser.Push(update.Text));
            content = "";
        }
        else
        {
            content = TakeText(update.Text);
        }

        if (update.Finish is { } finish)
        {
            Finish = finish;
            Usage = update.Usage;
            // Not tool-call JSON after all (none started, or one left unfinished though the model stopped on its own,
            // e.g. a forced call whose arguments never came): the model's words are the answer.
            var unfinished = _parser is not null && finish != Requests.FinishReason.Length && _parser.Calls.Count < _parser.StartedCalls;
            if (_parser is not null && (!HasToolCalls || unfinished))
            {
                content = TakeText(_parser.RawText);
                _parser = null;
            }
        }

        return new ChatDelta(content, tools);
    }

    /// <summary>Appends reply text, dropping the dummy-prefix space from its very start.</summary>
    private string TakeText(string text)
    {
        if (!_textStarted && text.Length > 0)
        {
            _textStarted = true;
            if (_stripLeadingSpace && text[0] == ' ')
            {
                text = text[1..];
            }
        }

        _content.Append(text);
        return text;
    }
}
