using System.Text;
using System.Text.Json;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Parses the JSON array a Mistral model writes after its [TOOL_CALLS] token
/// (<c>[{"name": "f", "arguments": {…}}, …]</c>) as it streams in, character by character, and reports OpenAI-style
/// deltas: a call's id and name as soon as its name is complete, then fragments of its arguments as they arrive.
/// Never throws on malformed output: it stops at the first character that does not fit and reports
/// <see cref="Failed"/>, keeping the calls completed so far. Ids are fresh 9-character Mistral ids.
/// </summary>
public sealed class ToolCallStreamParser
{
    private enum Stage { BeforeArray, BetweenCalls, InCall, AfterArray, Failed }

    private enum CallState { ExpectKey, InKey, ExpectColon, ExpectValue, InValue, AfterValue }

    private enum ValueKind { String, Compound, Scalar }

    private readonly StringBuilder _raw = new();
    private readonly StringBuilder _token = new();
    private readonly StringBuilder _arguments = new();
    private readonly StringBuilder _fragment = new();
    private readonly List<ChatToolCall> _calls = [];
    private readonly List<ToolCallDelta> _pending = [];
    private Stage _stage;
    private CallState _state;
    private ValueKind _kind;
    private string? _key;
    private JsonValueScanner _scan;
    private int _index = -1;
    private string _id = "";
    private string? _name;
    private bool _headerSent;
    private bool _argumentsSeen;
    private bool _argumentsAreString;
    private string? _argumentsDecoded;

    /// <summary>Calls whose JSON object is complete.</summary>
    public IReadOnlyList<ChatToolCall> Calls => _calls;

    /// <summary>Calls whose id and name were reported (complete or not).</summary>
    public int StartedCalls => _headerSent ? _index + 1 : _index;

    /// <summary>The output did not fit the expected JSON; parsing stopped.</summary>
    public bool Failed => _stage == Stage.Failed;

    /// <summary>The closing "]" of the array was seen.</summary>
    public bool IsComplete => _stage == Stage.AfterArray;

    /// <summary>Everything pushed so far.</summary>
    public string RawText => _raw.ToString();

    /// <summary>Feeds more output text; returns the deltas it completes.</summary>
    public IReadOnlyList<ToolCallDelta> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
        {
            _raw.Append(c);
            if (_stage != Stage.Failed)
            {
                Step(c);
            }
        }

        FlushFragment();
        var result = _pending.ToArray();
        _pending.Clear();
        return result;
    }

    private void Step(char c)
    {
        switch (_stage)
        {
            case Stage.BeforeArray:
                if (c == '[')
                {
                    _stage = Stage.BetweenCalls;
                }
                else if (!char.IsWhiteSpace(c))
                {
                    _stage = Stage.Failed;
                }

                break;
            case Stage.BetweenCalls:
                if (c == '{')
                {
                    StartCall();
                }
                else if (c == ']')
                {
                    _stage = Stage.AfterArray;
                }
                else if (c != ',' && !char.IsWhiteSpace(c))
                {
                    _stage = Stage.Failed;
                }

                break;
            case Stage.InCall:
                CallStep(c);
                break;
            default:
                // After the array: trailing text is ignored.
                break;
        }
    }

    private void CallStep(char c)
    {
        switch (_state)
        {
            case CallState.ExpectKey:
                if (c == '"')
                {
                    _token.Clear().Append(c);
                    _scan = default;
                    _scan.Feed(c);
                    _state = CallState.InKey;
                }
                else if (c == '}')
                {
                    EndCall();
                }
                else if (!char.IsWhiteSpace(c))
                {
                    _stage = Stage.Failed;
                }

                break;
            case CallState.InKey:
                _token.Append(c);
                if (_scan.Feed(c))
                {
                    _key = Decode(_token.ToString());
                    _state = CallState.ExpectColon;
                }

                break;
            case CallState.ExpectColon:
                if (c == ':')
                {
                    _state = CallState.ExpectValue;
                }
                else if (!char.IsWhiteSpace(c))
                {
                    _stage = Stage.Failed;
                }

                break;
            case CallState.ExpectValue:
                if (char.IsWhiteSpace(c))
                {
                    break;
                }

                _token.Clear();
                _scan = default;
                _kind = c switch { '"' => ValueKind.String, '{' or '[' => ValueKind.Compound, _ => ValueKind.Scalar };
                if (_key == "arguments")
                {
                    _argumentsSeen = true;
                    _argumentsAreString = _kind == ValueKind.String;
                }

                _state = CallState.InValue;
                ValueStep(c, first: true);
                break;
            case CallState.InValue:
                ValueStep(c, first: false);
                break;
            case CallState.AfterValue:
                if (c == ',')
                {
                    _state = CallState.ExpectKey;
                }
                else if (c == '}')
                {
                    EndCall();
                }
                else if (!char.IsWhiteSpace(c))
                {
                    _stage = Stage.Failed;
                }

                break;
        }
    }

    private void ValueStep(char c, bool first)
    {
        if (_kind == ValueKind.Scalar && !first && (c is ',' or '}' || char.IsWhiteSpace(c)))
        {
            CompleteValue();
            CallStep(c);
            return;
        }

        _token.Append(c);
        if (_key == "arguments" && !_argumentsAreString)
        {
            _arguments.Append(c);
            if (_headerSent)
            {
                _fragment.Append(c);
            }
        }

        // A string or compound value ends at its closing mark; a scalar ends at the first character after it (above).
        if (_kind != ValueKind.Scalar && _scan.Feed(c))
        {
            CompleteValue();
        }
    }

    private void CompleteValue()
    {
        var raw = _token.ToString();
        _state = CallState.AfterValue;
        switch (_key)
        {
            case "name":
                _name = _kind == ValueKind.String ? Decode(raw) : null;
                if (_name is null)
                {
                    _stage = Stage.Failed;
                    return;
                }

                SendHeader();
                break;
            case "arguments" when _argumentsAreString:
                _argumentsDecoded = Decode(raw);
                break;
        }
    }

    private void StartCall()
    {
        _index++;
        _id = ToolCallIds.NewId();
        _name = null;
        _headerSent = false;
        _argumentsSeen = false;
        _argumentsAreString = false;
        _argumentsDecoded = null;
        _arguments.Clear();
        _fragment.Clear();
        _key = null;
        _stage = Stage.InCall;
        _state = CallState.ExpectKey;
    }

    private void SendHeader()
    {
        if (_headerSent || _name is null)
        {
            return;
        }

        FlushFragment();
        _pending.Add(new ToolCallDelta(_index, _id, _name, ""));
        _headerSent = true;
        if (!_argumentsAreString)
        {
            _fragment.Append(_arguments);
        }
    }

    private void EndCall()
    {
        if (_name is null)
        {
            _stage = Stage.Failed;
            return;
        }

        SendHeader();
        string arguments;
        if (_argumentsAreString)
        {
            arguments = _argumentsDecoded ?? "{}";
            FlushFragment();
            _pending.Add(new ToolCallDelta(_index, null, null, arguments));
        }
        else
        {
            arguments = _argumentsSeen ? _arguments.ToString() : "{}";
            if (!_argumentsSeen)
            {
                _fragment.Append(arguments);
            }
        }

        FlushFragment();
        _calls.Add(new ChatToolCall(_id, _name, arguments));
        _stage = Stage.BetweenCalls;
    }

    private void FlushFragment()
    {
        if (_fragment.Length > 0 && _headerSent)
        {
            _pending.Add(new ToolCallDelta(_index, null, null, _fragment.ToString()));
            _fragment.Clear();
        }
    }

    private string? Decode(string raw)
    {
        try
        {
            using var doc = JsonDocument.Parse(raw);
            return doc.RootElement.ValueKind == JsonValueKind.String ? doc.RootElement.GetString() : null;
        }
        catch (JsonException)
        {
            _stage = Stage.Failed;
            return null;
        }
    }
}
