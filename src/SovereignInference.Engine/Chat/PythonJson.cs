using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Writes JSON the way Python's <c>json.dumps(value, ensure_ascii=False)</c> does (", " and ": " separators,
/// non-ASCII kept), because mistral-common renders tools, tool calls and tool results with it.
/// </summary>
internal sealed class PythonJson
{
    private readonly StringBuilder _out = new();

    public override string ToString() => _out.ToString();

    public PythonJson Raw(string text)
    {
        _out.Append(text);
        return this;
    }

    public PythonJson String(string value)
    {
        _out.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': _out.Append("\\\""); break;
                case '\\': _out.Append("\\\\"); break;
                case '\n': _out.Append("\\n"); break;
                case '\r': _out.Append("\\r"); break;
                case '\t': _out.Append("\\t"); break;
                case '\b': _out.Append("\\b"); break;
                case '\f': _out.Append("\\f"); break;
                default:
                    if (c < ' ')
                    {
                        _out.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        _out.Append(c);
                    }

                    break;
            }
        }

        _out.Append('"');
        return this;
    }

    /// <summary>Writes a parsed JSON value (objects keep their key order, numbers their text).</summary>
    public PythonJson Element(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                _out.Append('{');
                var first = true;
                foreach (var property in element.EnumerateObject())
                {
                    if (!first)
                    {
                        _out.Append(", ");
                    }

                    first = false;
                    String(property.Name).Raw(": ").Element(property.Value);
                }

                _out.Append('}');
                break;
            case JsonValueKind.Array:
                _out.Append('[');
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        _out.Append(", ");
                    }

                    firstItem = false;
                    Element(item);
                }

                _out.Append(']');
                break;
            case JsonValueKind.String:
                String(element.GetString()!);
                break;
            default:
                _out.Append(element.GetRawText());
                break;
        }

        return this;
    }

    /// <summary>
    /// mistral-common's <c>_parse_json_content</c>: text Python's json.loads accepts is written back as
    /// json.dumps writes it (numbers as Python reads them: 2.50 → 2.5, 1E3 → 1000.0; duplicate keys last-wins;
    /// bare NaN/Infinity), anything else as a JSON string.
    /// </summary>
    public PythonJson JsonOrString(string? content)
    {
        content ??= "";
        return PythonJsonReader.TryParse(content, out var value) ? Value(value) : String(content);
    }

    /// <summary>json.dumps(json.loads(text)) when text is JSON to Python, else null (mistral-common's _normalize_json_content keeps such text as it is).</summary>
    public static string? Normalize(string text) =>
        PythonJsonReader.TryParse(text, out var value) ? new PythonJson().Value(value).ToString() : null;

    /// <summary>Writes a value read by <see cref="PythonJsonReader"/>.</summary>
    internal PythonJson Value(object? value)
    {
        switch (value)
        {
            case null:
                return Raw("null");
            case bool b:
                return Raw(b ? "true" : "false");
            case string text:
                return String(text);
            case System.Numerics.BigInteger integer:
                return Raw(integer.ToString(CultureInfo.InvariantCulture));
            case double number:
                return Raw(PythonFloat(number));
            case List<KeyValuePair<string, object?>> members:
                Raw("{");
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        Raw(", ");
                    }

                    String(members[i].Key).Raw(": ").Value(members[i].Value);
                }

                return Raw("}");
            case List<object?> items:
                Raw("[");
                for (var i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                    {
                        Raw(", ");
                    }

                    Value(items[i]);
                }

                return Raw("]");
            default:
                throw new ArgumentException($"not a JSON value: {value.GetType()}", nameof(value));
        }
    }

    /// <summary>Python's repr of a float: the shortest round-trip digits, fixed notation for exponents -4..15, else d.ddde±XX.</summary>
    internal static string PythonFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        var r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOfAny(['E', 'e']);
        var exponent = e >= 0 ? int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        var mantissa = e >= 0 ? r[..e] : r;
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = (dot >= 0 ? mantissa.Remove(dot, 1) : mantissa).TrimStart('0');
        var point = (dot >= 0 ? dot : mantissa.Length) + exponent - ((dot >= 0 ? mantissa.Remove(dot, 1) : mantissa).Length - digits.Length);
        digits = digits.TrimEnd('0');
        var sign = value < 0 ? "-" : "";
        var scientific = point - 1;
        if (scientific is >= -4 and < 16)
        {
            if (point <= 0)
            {
                return sign + "0." + new string('0', -point) + digits;
            }

            return point >= digits.Length
                ? sign + digits + new string('0', point - digits.Length) + ".0"
                : sign + digits[..point] + "." + digits[point..];
        }

        var rest = digits.Length > 1 ? "." + digits[1..] : "";
        return sign + digits[0] + rest + "e" + (scientific < 0 ? "-" : "+") + Math.Abs(scientific).ToString("00", CultureInfo.InvariantCulture);
    }
}
