using System.Text;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Splits a Mistral model's reply, as it streams, into answer text, thinking ([THINK]…[/THINK]) and tool calls.
/// The reply's control tokens reach it as their names (see <see cref="ChatTurn"/>), so it reads text only:
/// <list type="bullet">
/// <item>v2 … v7: [TOOL_CALLS] then a JSON list [{"name": …, "arguments": {…}}, …] (<see cref="ToolCallStreamParser"/>);</item>
/// <item>v11 and later: [TOOL_CALLS]name[CALL_ID]id[ARGS]{…} per call (the id optional), parallel calls one after
/// another; a JSON list after [TOOL_CALLS] is read too.</item>
/// </list>
/// Text that may be the start of a marker is held back until it is decided. Never throws on malformed output.
/// </summary>
public sealed class MistralReplyParser
{
    private const string Think = "[THINK]";
    private const string EndThink = "[/THINK]";
    private const string ToolCalls = "[TOOL_CALLS]";
    private const string Args = "[ARGS]";
    private const string CallId = "[CALL_ID]";
    private static readonly string[] Markers = [Think, EndThink, ToolCalls, Args, CallId];

    private enum Mode { Content, Thinking, CallName, CallId, Arguments, AfterCall, JsonCalls }

    private readonly bool _argsFormat;
    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _toolRaw = new();
    private readonly StringBuilder _name = new();
    private readonly StringBuilder _id = new();
    private readonly StringBuilder _arguments = new();
    private readonly List<ChatToolCall> _calls = [];
    private StringBuilder _content = new();
    private StringBuilder _reasoning = new();
    private List<ToolCallDelta> _tools = [];
    private ToolCallStreamParser? _json;
    private Mode _mode;
    private int _index = -1;
    private bool _headerSent;
    private string _callId = "";
    private JsonValueScanner _argScan;
    private bool _argStarted;
    private bool _argComplete;

    /// <param name="argsFormat">The model writes calls as [TOOL_CALLS]name[ARGS]{…} (v11 and later).</param>
    public MistralReplyParser(bool argsFormat) => _argsFormat = argsFormat;

    /// <summary>Tool calls whose arguments are complete.</summary>
    public IReadOnlyList<ChatToolCall> Calls => _json is not null ? [.. _calls, .. _json.Calls] : _calls;

    /// <summary>Calls whose id and name were reported.</summary>
    public int StartedCalls => (_headerSent ? _index + 1 : Math.Max(_index, 0)) + (_json?.StartedCalls ?? 0);

    /// <summary>The reply went into tool calls ([TOOL_CALLS] was seen).</summary>
    public bool InToolCalls => _mode is Mode.CallName or Mode.CallId or Mode.Arguments or Mode.AfterCall or Mode.JsonCalls;

    /// <summary>Everything after the first [TOOL_CALLS], markers included: the model's words when the calls come to nothing.</summary>
    public string ToolText => _toolRaw.ToString();

    /// <summary>Feeds more reply text; returns what it completes.</summary>
    public (string Content, string Reasoning, IReadOnlyList<ToolCallDelta> Tools) Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _pending.Append(text);
        Drain(final: false);
        return TakeOutput();
    }

    /// <summary>Ends the reply: held-back text is taken as it is, a call's unfinished scalar arguments close.</summary>
    public (string Content, string Reasoning, IReadOnlyList<ToolCallDelta> Tools) Finish()
    {
        Drain(final: true);
        if (_mode == Mode.Arguments && _argStarted && _argScan.AtTopLevel)
        {
            CompleteCall();
        }

        return TakeOutput();
    }

    private (string, string, IReadOnlyList<ToolCallDelta>) TakeOutput()
    {
        var result = (_content.ToString(), _reasoning.ToString(), (IReadOnlyList<ToolCallDelta>)_tools);
        _content = new StringBuilder();
        _reasoning = new StringBuilder();
        _tools = [];
        return result;
    }

    private void Drain(bool final)
    {
        var text = _pending.ToString();
        var i = 0;
        var plainStart = 0;
        while (i < text.Length)
        {
            if (text[i] != '[')
            {
                i++;
                continue;
            }

            var marker = Markers.FirstOrDefault(m => string.CompareOrdinal(text, i, m, 0, m.Length) == 0);
            if (marker is not null)
            {
                Plain(text[plainStart..i]);
                OnMarker(marker);
                i += marker.Length;
                plainStart = i;
                continue;
            }

            if (!final && Markers.Any(m => m.Length > text.Length - i && string.CompareOrdinal(text, i, m, 0, text.Length - i) == 0))
            {
                // Maybe the start of a marker: wait for more text.
                break;
            }

            i++;
        }

        Plain(text[plainStart..i]);
        _pending.Clear().Append(text.AsSpan(i));
    }

    private void OnMarker(string marker)
    {
        if (InToolCalls)
        {
            _toolRaw.Append(marker);
        }

        switch (marker)
        {
            case Think when _mode == Mode.Content:
                _mode = Mode.Thinking;
                return;
            case EndThink when _mode == Mode.Thinking:
                _mode = Mode.Content;
                return;
            case ToolCalls when _mode is Mode.Content or Mode.AfterCall or Mode.Arguments && _argsFormat:
                if (_mode == Mode.Arguments && _argStarted && _argScan.AtTopLevel)
                {
                    CompleteCall();
                }

                _mode = Mode.CallName;
                _index++;
                _headerSent = false;
                _name.Clear();
                _id.Clear();
                return;
            case ToolCalls when _mode == Mode.Content:
                _mode = Mode.JsonCalls;
                _json = new ToolCallStreamParser();
                return;
            case CallId when _mode == Mode.CallName:
                _mode = Mode.CallId;
                return;
            case Args when _mode is Mode.CallName or Mode.CallId:
                StartArguments();
                return;
            default:
                // A marker where it means nothing: keep it as text.
                Plain(marker, fromMarker: true);
                return;
        }
    }

    private void Plain(string text, bool fromMarker = false)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (InToolCalls && !fromMarker)
        {
            _toolRaw.Append(text);
        }

        switch (_mode)
        {
            case Mode.Content:
                _content.Append(text);
                break;
            case Mode.Thinking:
                _reasoning.Append(text);
                break;
            case Mode.JsonCalls:
                _tools.AddRange(_json!.Push(text));
                break;
            case Mode.CallName:
                if (_name.Length == 0 && text.TrimStart().StartsWith('[') && _index == 0)
                {
                    // A JSON list after [TOOL_CALLS] (the older form) from a v11+ model.
                    _mode = Mode.JsonCalls;
                    _index = -1;
                    _json = new ToolCallStreamParser();
                    _tools.AddRange(_json.Push(text));
                    break;
                }

                _name.Append(text);
                break;
            case Mode.CallId:
                _id.Append(text);
                break;
            case Mode.Arguments:
                ArgumentText(text);
                break;
            case Mode.AfterCall:
                if (text.Trim().Length > 0)
                {
                    _content.Append(text);
                }

                break;
        }
    }

    private void StartArguments()
    {
        _mode = Mode.Arguments;
        _callId = _id.ToString().Trim() is { Length: > 0 } id ? id : ToolCallIds.NewId();
        _tools.Add(new ToolCallDelta(_index, _callId, _name.ToString().Trim(), ""));
        _headerSent = true;
        _arguments.Clear();
        _argScan = default;
        _argStarted = false;
        _argComplete = false;
    }

    private void ArgumentText(string text)
    {
        var fragment = new StringBuilder();
        foreach (var c in text)
        {
            if (_argComplete)
            {
                if (!char.IsWhiteSpace(c))
                {
                    _content.Append(c);
                }

                continue;
            }

            if (!_argStarted)
            {
                if (char.IsWhiteSpace(c))
                {
                    continue;
                }

                _argStarted = true;
            }

            fragment.Append(c);
            _arguments.Append(c);
            _argComplete = _argScan.Feed(c);
        }

        if (fragment.Length > 0)
        {
            _tools.Add(new ToolCallDelta(_index, null, null, fragment.ToString()));
        }

        if (_argComplete)
        {
            CompleteCall();
        }
    }

    private void CompleteCall()
    {
        if (_mode != Mode.Arguments)
        {
            return;
        }

        _calls.Add(new ChatToolCall(_callId, _name.ToString().Trim(), _arguments.ToString()));
        _mode = Mode.AfterCall;
    }
}
