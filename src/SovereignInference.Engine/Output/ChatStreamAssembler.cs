using System.Text;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Output;

/// <summary>
/// Turns the engine updates of one assistant reply into chat deltas, for any transport: answer text, thinking and
/// tool calls, split by <see cref="MistralReplyParser"/> (the reply's control tokens arrive as their names). Tool-call
/// output that comes to nothing is handed back as text with the final update. One instance per reply; not
/// thread-safe. Create it with <see cref="ChatTurn.NewAssembler"/>.
/// </summary>
public sealed class ChatStreamAssembler
{
    private readonly MistralReplyParser _parser;
    private readonly string _prefill;
    private readonly bool _stripLeadingSpace;
    private readonly int _promptTokens;
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private bool _started;
    private bool _textStarted;
    private bool _reasoningStarted;
    private bool _fellBack;

    /// <param name="argsFormat">Calls are written [TOOL_CALLS]name[ARGS]{…} (v11 and later) rather than as a JSON list.</param>
    /// <param name="prefill">Reply text the prompt already holds (an opened or named forced call), parsed before the output.</param>
    /// <param name="stripLeadingSpace">
    /// Drop one space at the start of the reply's text: a SentencePiece vocabulary writes a word-initial piece
    /// with "▁", and the reply's first piece carries the dummy-prefix space that mistral-common's and Hugging
    /// Face's decoders drop.
    /// </param>
    /// <param name="promptTokens">The prompt's length in tokens, passed on with every delta.</param>
    public ChatStreamAssembler(bool argsFormat = false, string prefill = "", bool stripLeadingSpace = false, int promptTokens = 0)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        _parser = new MistralReplyParser(argsFormat);
        _prefill = prefill;
        _stripLeadingSpace = stripLeadingSpace;
        _promptTokens = promptTokens;
    }

    /// <summary>The reply's answer text so far.</summary>
    public string Content => _content.ToString();

    /// <summary>The reply's thinking so far (empty when the model did not think).</summary>
    public string Reasoning => _reasoning.ToString();

    /// <summary>Tool calls whose arguments are complete.</summary>
    public IReadOnlyList<ChatToolCall> Calls => _fellBack ? [] : _parser.Calls;

    /// <summary>The reply is (or is becoming) tool calls: at least one call's id and name were reported.</summary>
    public bool HasToolCalls => !_fellBack && _parser.StartedCalls > 0;

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

    /// <summary>Feeds one engine update; returns what it adds to the reply (with <see cref="ChatDelta.End"/> once the update is the final one).</summary>
    public ChatDelta Apply(GenerationUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var tools = new List<ToolCallDelta>();
        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        if (!_started)
        {
            _started = true;
            if (_prefill.Length > 0)
            {
                // The prompt's own part of the reply: only its tool-call headers are news to the client.
                tools.AddRange(_parser.Push(_prefill).Tools);
            }
        }

        Take(_parser.Push(update.Text));
        if (update.Finish is { } finish)
        {
            Take(_parser.Finish());
            Finish = finish;
            Usage = update.Usage;

            // Not tool calls after all (none started, or one left unfinished though the model stopped on its own,
            // e.g. a forced call whose arguments never came): the model's words are the answer.
            var unfinished = finish != Requests.FinishReason.Length && _parser.Calls.Count < _parser.StartedCalls;
            if (_parser.InToolCalls && (_parser.StartedCalls == 0 || unfinished))
            {
                _fellBack = true;
                content.Append(TakeText(_parser.ToolText));
            }
        }

        return new ChatDelta(content.ToString(), tools, reasoning.ToString())
        {
            Tokens = update.Tokens,
            PromptTokens = _promptTokens,
            End = update.Finish is { } end ? new ChatEnd
            {
                Reason = FinishReason,
                Finish = end,
                MatchedStop = update.MatchedStop,
                Usage = Usage,
                Timings = update.Timings,
                Content = Content,
                Reasoning = Reasoning,
                HasToolCalls = HasToolCalls,
                ToolCalls = HasToolCalls ? Calls : [],
            } : null,
        };

        void Take((string Content, string Reasoning, IReadOnlyList<ToolCallDelta> Tools) part)
        {
            content.Append(TakeText(part.Content));
            var thought = part.Reasoning;
            if (!_reasoningStarted && thought.Length > 0)
            {
                // The thinking is its own SentencePiece segment: its first piece carries a dummy-prefix space too.
                _reasoningStarted = true;
                thought = _stripLeadingSpace && thought[0] == ' ' ? thought[1..] : thought;
            }

            reasoning.Append(thought);
            _reasoning.Append(thought);
            tools.AddRange(part.Tools);
        }
    }

    /// <summary>Appends answer text, dropping the dummy-prefix space from its very start.</summary>
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
