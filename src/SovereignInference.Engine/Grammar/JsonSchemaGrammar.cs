using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Grammar;

/// <summary>
/// Turns OpenAI's <c>response_format</c> into GBNF, after llama.cpp's common/json-schema-to-grammar.cpp:
/// one rule per schema node, shared primitive rules (string, number, ...), required properties in
/// declaration order followed by optional ones. <see cref="JsonObject"/> is any JSON object
/// (<c>json_object</c>); <see cref="FromSchema"/> handles the subset of JSON Schema listed on it and rejects
/// every other keyword with InvalidArgument (param <c>response_format</c>) naming it.
/// </summary>
public static class JsonSchemaGrammar
{
    /// <summary>Largest minLength / maxLength / minItems / maxItems accepted (llama.cpp caps repetitions at 2000).</summary>
    public const int MaxBound = 1000;

    private const int MaxDepth = 64;
    private const string Param = "response_format";

    private static readonly Dictionary<string, (string Body, string[] Uses)> Primitives = new(StringComparer.Ordinal)
    {
        ["space"] = ("| \" \"", []),
        ["boolean"] = ("(\"true\" | \"false\") space", ["space"]),
        ["null"] = ("\"null\" space", ["space"]),
        ["integral-part"] = ("[0] | [1-9] [0-9]{0,15}", []),
        ["decimal-part"] = ("[0-9]{1,16}", []),
        // At most two exponent digits: with at most 16 + 16 mantissa digits every number the grammar admits is
        // finite and not subnormal as a double (1e-115 .. 1e115). llama.cpp's converter reuses integral-part
        // there, which admits 87E3272072953428, read as Infinity by JavaScript and .NET alike.
        ["exponent-part"] = ("[0-9]{1,2}", []),
        ["integer"] = ("\"-\"? integral-part space", ["integral-part", "space"]),
        ["number"] = ("\"-\"? integral-part (\".\" decimal-part)? ([eE] [-+]? exponent-part)? space", ["integral-part", "decimal-part", "exponent-part", "space"]),
        ["char"] = ("[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})", []),
        ["string"] = ("\"\\\"\" char* \"\\\"\" space", ["char", "space"]),
        ["value"] = ("object | array | string | number | boolean | null", ["object", "array", "string", "number", "boolean", "null"]),
        ["object"] = ("\"{\" space (string \":\" space value (\",\" space string \":\" space value)*)? \"}\" space", ["string", "value", "space"]),
        ["array"] = ("\"[\" space (value (\",\" space value)*)? \"]\" space", ["value", "space"]),
    };

    /// <summary>Keywords that only annotate a schema; they never change what matches.</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly",
    };

    /// <summary>Keywords this converter turns into grammar.</summary>
    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
        "anyOf", "oneOf", "$ref", "$defs", "definitions", "minLength", "maxLength",
    };

    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Any JSON object (OpenAI <c>response_format: {"type": "json_object"}</c>).</summary>
    public static GrammarSpec JsonObject()
    {
        var converter = new Converter(default);
        converter.Add("root", converter.Use("object"));
        return new GrammarSpec(converter.Render());
    }

    /// <summary>
    /// A grammar for the JSON documents <paramref name="schema"/> accepts. Supported: <c>type</c> (one or a
    /// list), object <c>properties</c> / <c>required</c> / <c>additionalProperties</c> (true or false; extra
    /// properties are never generated), string <c>minLength</c> / <c>maxLength</c>, number, integer, boolean,
    /// null, array <c>items</c> / <c>minItems</c> / <c>maxItems</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>,
    /// <c>oneOf</c>, <c>$ref</c> to <c>#</c>, <c>#/$defs/...</c> and <c>#/definitions/...</c>, and annotations.
    /// </summary>
    public static GrammarSpec FromSchema(JsonElement schema)
    {
        var converter = new Converter(schema);
        converter.Reserve("root");
        converter.Add("root", converter.Body(schema, "root", 0));
        return new GrammarSpec(converter.Render());
    }

    /// <summary>Parses <paramref name="schemaJson"/> and calls <see cref="FromSchema(JsonElement)"/>.</summary>
    public static GrammarSpec FromSchema(string schemaJson)
    {
        try
        {
            using var document = JsonDocument.Parse(schemaJson);
            return FromSchema(document.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw EngineException.Invalid(Param, "The JSON schema is not valid JSON: " + ex.Message);
        }
    }

    /// <summary>
    /// One grammar holding a rule per schema (named <c>RuleName</c>, each with its own <c>$defs</c>; "#" refers to
    /// that schema) and the shared primitives, with <paramref name="rootBody"/> as its root (it may use
    /// <c>space</c>, <c>string</c> and <c>object</c>). A schema of null means any JSON object.
    /// </summary>
    public static GrammarSpec Compose(string rootBody, IReadOnlyList<(string RuleName, JsonElement? Schema)> schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        var converter = new Converter(default);
        converter.Use("space");
        converter.Use("object");
        converter.Reserve("root");
        foreach (var (name, schema) in schemas)
        {
            converter.Reserve(name);
        }

        foreach (var (name, schema) in schemas)
        {
            converter.StartSchema(schema ?? default, name);
            converter.Add(name, schema is { } s ? converter.Body(s, name, 0) : "object");
        }

        converter.Add("root", rootBody);
        return new GrammarSpec(converter.Render());
    }

    private static EngineException Fail(string message) => EngineException.Invalid(Param, "Unsupported JSON schema: " + message);

    private sealed class Converter(JsonElement root)
    {
        private readonly Dictionary<string, string> _rules = new(StringComparer.Ordinal);
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _refs = new(StringComparer.Ordinal);
        private JsonElement _root = root;
        private string _rootName = "root";

        /// <summary>Converts the next schema of a composed grammar: its $refs resolve in it, "#" is <paramref name="rootName"/>.</summary>
        public void StartSchema(JsonElement schema, string rootName)
        {
            _root = schema;
            _rootName = rootName;
            _refs.Clear();
        }

        public void Reserve(string name) => _names.Add(name);

        public void Add(string name, string body)
        {
            _names.Add(name);
            _rules[name] = body;
        }

        /// <summary>Adds a primitive rule and those it uses; returns its name.</summary>
        public string Use(string primitive)
        {
            if (_rules.ContainsKey(primitive))
            {
                return primitive;
            }

            var (body, uses) = Primitives[primitive];
            Add(primitive, body);
            foreach (var dependency in uses)
            {
                Use(dependency);
            }

            return primitive;
        }

        /// <summary>Whether <paramref name="body"/> is just the name of a rule (possibly a $ref still being built).</summary>
        private bool IsName(string body) =>
            Primitives.ContainsKey(body) || _rules.ContainsKey(body) || _refs.ContainsValue(body) || body == "root" || body == _rootName;

        public string Render()
        {
            var sb = new StringBuilder();
            foreach (var name in _rules.Keys.OrderBy(n => n == "root" ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal))
            {
                sb.Append(name).Append(" ::= ").Append(_rules[name]).Append('\n');
            }

            return sb.ToString();
        }

        /// <summary>A fresh rule name from <paramref name="hint"/> (only [a-zA-Z0-9-], never clashing with primitives).</summary>
        private string NewName(string hint)
        {
            var sb = new StringBuilder();
            foreach (var c in hint)
            {
                sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
            }

            var baseName = sb.Length == 0 ? "r" : sb.ToString();
            var name = baseName;
            for (var i = 1; _names.Contains(name) || Primitives.ContainsKey(name); i++)
            {
                name = baseName + "-" + i.ToString(CultureInfo.InvariantCulture);
            }

            _names.Add(name);
            return name;
        }

        /// <summary>Adds a rule for <paramref name="schema"/> and returns its name.</summary>
        private string Visit(JsonElement schema, string hint, int depth)
        {
            var body = Body(schema, hint, depth);
            if (IsName(body))
            {
                return body;
            }

            var name = NewName(hint);
            Add(name, body);
            return name;
        }

        public string Body(JsonElement schema, string name, int depth)
        {
            if (depth > MaxDepth)
            {
                throw Fail($"schemas nest deeper than {MaxDepth}");
            }

            if (schema.ValueKind == JsonValueKind.True)
            {
                return Use("value");
            }

            if (schema.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"a schema must be an object or true (got {schema.ValueKind} at '{name}')");
            }

            foreach (var property in schema.EnumerateObject())
            {
                if (!Supported.Contains(property.Name) && !Annotations.Contains(property.Name))
                {
                    throw Fail($"the keyword '{property.Name}' (at '{name}') is not supported");
                }
            }

            if (schema.TryGetProperty("$ref", out var reference))
            {
                return Reference(reference, depth);
            }

            if (schema.TryGetProperty("const", out var constant))
            {
                return Constant(constant) + " " + Use("space");
            }

            if (schema.TryGetProperty("enum", out var values))
            {
                if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                {
                    throw Fail($"'enum' at '{name}' must be a non-empty array");
                }

                return "(" + string.Join(" | ", values.EnumerateArray().Select(Constant)) + ") " + Use("space");
            }

            if (schema.TryGetProperty("anyOf", out var anyOf) || schema.TryGetProperty("oneOf", out anyOf))
            {
                if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0)
                {
                    throw Fail($"'anyOf' / 'oneOf' at '{name}' must be a non-empty array");
                }

                return string.Join(" | ", anyOf.EnumerateArray().Select((s, i) => Visit(s, $"{name}-{i}", depth + 1)));
            }

            if (schema.TryGetProperty("type", out var type))
            {
                if (type.ValueKind == JsonValueKind.String)
                {
                    return TypeBody(schema, type.GetString()!, name, depth);
                }

                if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
                {
                    var types = type.EnumerateArray().Select(t => t.GetString()!).ToList();
                    return types.Count == 1
                        ? TypeBody(schema, types[0], name, depth)
                        : string.Join(" | ", types.Select(t => Wrap(TypeBody(schema, t, $"{name}-{t}", depth), $"{name}-{t}")));
                }

                throw Fail($"'type' at '{name}' must be a string or a non-empty array of strings");
            }

            if (schema.TryGetProperty("properties", out _))
            {
                return TypeBody(schema, "object", name, depth);
            }

            if (schema.TryGetProperty("items", out _))
            {
                return TypeBody(schema, "array", name, depth);
            }

            return Use("value");
        }

        /// <summary>A rule name for <paramref name="body"/> (adding a rule when it is more than a name).</summary>
        private string Wrap(string body, string hint)
        {
            if (IsName(body))
            {
                return body;
            }

            var name = NewName(hint);
            Add(name, body);
            return name;
        }

        private string TypeBody(JsonElement schema, string type, string name, int depth) => type switch
        {
            "object" => ObjectBody(schema, name, depth),
            "array" => ArrayBody(schema, name, depth),
            "string" => StringBody(schema, name),
            "number" => Use("number"),
            "integer" => Use("integer"),
            "boolean" => Use("boolean"),
            "null" => Use("null"),
            _ => throw Fail($"the type '{type}' (at '{name}') is not a JSON Schema type"),
        };

        private string ObjectBody(JsonElement schema, string name, int depth)
        {
            var additional = true;
            if (schema.TryGetProperty("additionalProperties", out var additionalProperties))
            {
                additional = additionalProperties.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw Fail($"'additionalProperties' at '{name}' must be true or false (a schema there is not supported)"),
                };
            }

            var hasProperties = schema.TryGetProperty("properties", out var properties);
            if (hasProperties && properties.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"'properties' at '{name}' must be an object");
            }

            var declared = hasProperties ? properties.EnumerateObject().ToList() : [];
            var required = new HashSet<string>(StringComparer.Ordinal);
            if (schema.TryGetProperty("required", out var requiredList))
            {
                if (requiredList.ValueKind != JsonValueKind.Array || requiredList.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
                {
                    throw Fail($"'required' at '{name}' must be an array of strings");
                }

                foreach (var r in requiredList.EnumerateArray())
                {
                    var key = r.GetString()!;
                    if (!declared.Any(p => p.Name == key))
                    {
                        throw Fail($"the required property '{key}' at '{name}' is not listed in 'properties'");
                    }

                    required.Add(key);
                }
            }

            if (declared.Count == 0)
            {
                return additional ? Use("object") : "\"{\" " + Use("space") + " \"}\" " + Use("space");
            }

            var space = Use("space");
            var kvs = new List<(string Rule, bool Required)>();
            foreach (var property in declared)
            {
                var valueRule = Visit(property.Value, $"{name}-{property.Name}", depth + 1);
                var kvName = NewName($"{name}-{property.Name}-kv");
                Add(kvName, $"{Constant(JsonSerializer.SerializeToElement(property.Name))} {space} \":\" {space} {valueRule}");
                kvs.Add((kvName, required.Contains(property.Name)));
            }

            var requiredRules = kvs.Where(k => k.Required).Select(k => k.Rule).ToList();
            var optionalRules = kvs.Where(k => !k.Required).Select(k => k.Rule).ToList();
            var parts = new List<string> { "\"{\"", space };
            if (requiredRules.Count > 0)
            {
                parts.Add(string.Join($" \",\" {space} ", requiredRules));
                parts.AddRange(optionalRules.Select(rule => $"(\",\" {space} {rule})?"));
            }
            else if (optionalRules.Count > 0)
            {
                // Any subset, in order, with commas only between members.
                var alternatives = optionalRules.Select((first, i) =>
                    string.Join(" ", optionalRules.Skip(i + 1).Select(rest => $"(\",\" {space} {rest})?").Prepend(first)));
                parts.Add("(" + string.Join(" | ", alternatives) + ")?");
            }

            parts.Add("\"}\"");
            parts.Add(space);
            return string.Join(" ", parts);
        }

        private string ArrayBody(JsonElement schema, string name, int depth)
        {
            var item = schema.TryGetProperty("items", out var items) ? Visit(items, $"{name}-item", depth + 1) : Use("value");
            var min = Bound(schema, "minItems", name) ?? 0;
            var max = Bound(schema, "maxItems", name);
            if (max < min)
            {
                throw Fail($"'maxItems' is below 'minItems' at '{name}'");
            }

            var space = Use("space");
            var open = $"\"[\" {space} ";
            var close = $"\"]\" {space}";
            if (max == 0)
            {
                return open + close;
            }

            var more = $"(\",\" {space} {item})" + Repetition(Math.Max(min - 1, 0), max - 1);
            return min == 0
                ? $"{open}({item} {more})? {close}"
                : $"{open}{item} {more} {close}";
        }

        private string StringBody(JsonElement schema, string name)
        {
            var min = Bound(schema, "minLength", name);
            var max = Bound(schema, "maxLength", name);
            if (min is null && max is null)
            {
                return Use("string");
            }

            if (max < (min ?? 0))
            {
                throw Fail($"'maxLength' is below 'minLength' at '{name}'");
            }

            return $"\"\\\"\" {Use("char")}{Repetition(min ?? 0, max)} \"\\\"\" {Use("space")}";
        }

        private static string Repetition(int min, int? max) => max switch
        {
            null when min == 0 => "*",
            null when min == 1 => "+",
            null => "{" + min.ToString(CultureInfo.InvariantCulture) + ",}",
            _ when max == min => "{" + min.ToString(CultureInfo.InvariantCulture) + "}",
            _ when min == 0 && max == 1 => "?",
            _ => "{" + min.ToString(CultureInfo.InvariantCulture) + "," + max.Value.ToString(CultureInfo.InvariantCulture) + "}",
        };

        private static int? Bound(JsonElement schema, string keyword, string name)
        {
            if (!schema.TryGetProperty(keyword, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < 0)
            {
                throw Fail($"'{keyword}' at '{name}' must be a non-negative integer");
            }

            if (n > MaxBound)
            {
                throw Fail($"'{keyword}' at '{name}' is {n}; at most {MaxBound} is supported");
            }

            return n;
        }

        private static string Constant(JsonElement value) => GbnfValidator.Literal(JsonSerializer.Serialize(value, CompactJson));

        private string Reference(JsonElement reference, int depth)
        {
            var text = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : "";
            if (_refs.TryGetValue(text, out var existing))
            {
                return existing;
            }

            if (text == "#")
            {
                return _rootName;
            }

            string[] prefixes = ["#/$defs/", "#/definitions/"];
            var prefix = prefixes.FirstOrDefault(p => text.StartsWith(p, StringComparison.Ordinal));
            if (prefix is null || _root.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"the $ref '{text}' is not supported (only '#', '#/$defs/NAME' and '#/definitions/NAME')");
            }

            var key = text[prefix.Length..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (!_root.TryGetProperty(prefix[2..^1], out var definitions) || definitions.ValueKind != JsonValueKind.Object
                || !definitions.TryGetProperty(key, out var target))
            {
                throw Fail($"the $ref '{text}' points to no definition");
            }

            var name = NewName("ref-" + key);
            _refs[text] = name;
            Add(name, Body(target, name, depth + 1));
            return name;
        }
    }
}
