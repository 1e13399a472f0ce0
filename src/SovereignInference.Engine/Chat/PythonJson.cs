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

    /// <summary>mistral-common's <c>_parse_json_content</c>: JSON text is embedded as JSON, anything else as a string.</summary>
    public PythonJson JsonOrString(string? content)
    {
        content ??= "";
        try
        {
            using var doc = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64 });
            return Element(doc.RootElement);
        }
        catch (JsonException)
        {
            return String(content);
        }
    }
}
