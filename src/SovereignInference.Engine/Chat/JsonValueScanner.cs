namespace SovereignInference.Engine.Chat;

/// <summary>
/// Finds where one JSON value ends in streamed text, one character at a time: a string at its closing quote (escapes
/// skipped), an object or array when its brackets balance again (brackets inside strings ignored). Numbers and literals
/// have no closing mark; the caller ends them (<see cref="AtTopLevel"/> says when one may end). Used by both tool-call
/// parsers (<see cref="ToolCallStreamParser"/> for JSON call lists, <see cref="MistralReplyParser"/> for [ARGS] values).
/// Reset with <c>default</c>.
/// </summary>
internal struct JsonValueScanner
{
    private int _depth;
    private bool _inString;
    private bool _escape;

    /// <summary>Outside every string and bracket: a scalar value may end here.</summary>
    public readonly bool AtTopLevel => _depth == 0 && !_inString;

    /// <summary>Feeds the next character, the value's first included; true when this character closes the value.</summary>
    public bool Feed(char c)
    {
        if (_inString)
        {
            if (_escape)
            {
                _escape = false;
            }
            else if (c == '\\')
            {
                _escape = true;
            }
            else if (c == '"')
            {
                _inString = false;
                return _depth == 0;
            }

            return false;
        }

        switch (c)
        {
            case '"':
                _inString = true;
                return false;
            case '{' or '[':
                _depth++;
                return false;
            case '}' or ']':
                _depth--;
                return _depth == 0;
            default:
                return false;
        }
    }
}
