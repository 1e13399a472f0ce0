using System.Globalization;
using System.Numerics;
using System.Text;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Reads JSON as Python's <c>json.loads</c> does, so that mistral-common's re-serialization can be reproduced:
/// integers stay exact (<see cref="BigInteger"/>), other numbers become doubles, NaN/Infinity/-Infinity are
/// accepted, objects keep first-seen key order with the last value of a duplicate key, raw control characters in
/// strings are refused (strict mode). Values: null, bool, string, BigInteger, double,
/// List&lt;KeyValuePair&lt;string, object?&gt;&gt; (object), List&lt;object?&gt; (array).
/// </summary>
internal sealed class PythonJsonReader
{
    private const int MaxDepth = 256;
    private readonly string _text;
    private int _pos;

    private PythonJsonReader(string text) => _text = text;

    public static bool TryParse(string text, out object? value)
    {
        var reader = new PythonJsonReader(text);
        value = null;
        try
        {
            reader.SkipSpace();
            value = reader.ReadValue(0);
            reader.SkipSpace();
            return reader._pos == text.Length;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private object? ReadValue(int depth)
    {
        if (depth > MaxDepth || _pos >= _text.Length)
        {
            throw new FormatException();
        }

        var c = _text[_pos];
        switch (c)
        {
            case '{':
                return ReadObject(depth);
            case '[':
                return ReadArray(depth);
            case '"':
                return ReadString();
        }

        if (Take("true"))
        {
            return true;
        }

        if (Take("false"))
        {
            return false;
        }

        if (Take("null"))
        {
            return null;
        }

        if (Take("NaN"))
        {
            return double.NaN;
        }

        if (Take("Infinity"))
        {
            return double.PositiveInfinity;
        }

        if (Take("-Infinity"))
        {
            return double.NegativeInfinity;
        }

        return ReadNumber();
    }

    private List<KeyValuePair<string, object?>> ReadObject(int depth)
    {
        _pos++;
        var members = new List<KeyValuePair<string, object?>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        SkipSpace();
        if (Peek() == '}')
        {
            _pos++;
            return members;
        }

        while (true)
        {
            SkipSpace();
            if (Peek() != '"')
            {
                throw new FormatException();
            }

            var key = ReadString();
            SkipSpace();
            Expect(':');
            SkipSpace();
            var value = ReadValue(depth + 1);
            if (index.TryGetValue(key, out var at))
            {
                members[at] = new(key, value);
            }
            else
            {
                index[key] = members.Count;
                members.Add(new(key, value));
            }

            SkipSpace();
            if (Peek() == ',')
            {
                _pos++;
                continue;
            }

            Expect('}');
            return members;
        }
    }

    private List<object?> ReadArray(int depth)
    {
        _pos++;
        var items = new List<object?>();
        SkipSpace();
        if (Peek() == ']')
        {
            _pos++;
            return items;
        }

        while (true)
        {
            SkipSpace();
            items.Add(ReadValue(depth + 1));
            SkipSpace();
            if (Peek() == ',')
            {
                _pos++;
                continue;
            }

            Expect(']');
            return items;
        }
    }

    private string ReadString()
    {
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw new FormatException();
            }

            var c = _text[_pos++];
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c < ' ')
            {
                throw new FormatException();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (_pos >= _text.Length)
            {
                throw new FormatException();
            }

            var e = _text[_pos++];
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (_pos + 4 > _text.Length || !int.TryParse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw new FormatException();
                    }

                    sb.Append((char)code);
                    _pos += 4;
                    break;
                default:
                    throw new FormatException();
            }
        }
    }

    private object ReadNumber()
    {
        var start = _pos;
        if (Peek() == '-')
        {
            _pos++;
        }

        if (Peek() == '0')
        {
            _pos++;
        }
        else if (Peek() is >= '1' and <= '9')
        {
            Digits();
        }
        else
        {
            throw new FormatException();
        }

        var isFloat = false;
        if (Peek() == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            Digits();
        }

        if (Peek() is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (Peek() is '+' or '-')
            {
                _pos++;
            }

            if (Peek() is >= '0' and <= '9')
            {
                isFloat = true;
                Digits();
            }
            else
            {
                _pos = save;
            }
        }

        var text = _text[start.._pos];
        return isFloat
            ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
            : BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private void Digits()
    {
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
    }

    private bool Take(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
        {
            _pos += word.Length;
            return true;
        }

        return false;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw new FormatException();
        }

        _pos++;
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r')
        {
            _pos++;
        }
    }
}
