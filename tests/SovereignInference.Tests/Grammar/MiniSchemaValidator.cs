using System.Text.Json;

namespace SovereignInference.Tests.Grammar;

/// <summary>
/// A small JSON Schema checker for the keywords the grammar tests use (type, properties, required,
/// additionalProperties false, maxLength, enum, items, minItems, maxItems). Returns the violations found.
/// </summary>
internal static class MiniSchemaValidator
{
    /// <summary>The schema the grammar and response_format tests generate against: short enough to finish, rich enough to check.</summary>
    public const string PersonSchema = """
        {"type":"object",
         "properties":{
           "name":{"type":"string","maxLength":8},
           "age":{"type":"integer"},
           "tags":{"type":"array","items":{"enum":["red","green","blue"]},"maxItems":3}},
         "required":["name","age","tags"],
         "additionalProperties":false}
        """;

    public static List<string> Validate(JsonElement schema, JsonElement value, string path = "$")
    {
        var errors = new List<string>();
        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonElement.DeepEquals(v, value)))
        {
            errors.Add($"{path}: {value.GetRawText()} is not in the enum");
        }

        if (!schema.TryGetProperty("type", out var type))
        {
            return errors;
        }

        switch (type.GetString())
        {
            case "object":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}: expected an object");
                    break;
                }

                var properties = schema.GetProperty("properties");
                foreach (var required in schema.GetProperty("required").EnumerateArray())
                {
                    if (!value.TryGetProperty(required.GetString()!, out _))
                    {
                        errors.Add($"{path}: missing required '{required.GetString()}'");
                    }
                }

                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in value.EnumerateObject())
                {
                    if (!seen.Add(member.Name))
                    {
                        errors.Add($"{path}: duplicate '{member.Name}'");
                    }

                    if (properties.TryGetProperty(member.Name, out var propertySchema))
                    {
                        errors.AddRange(Validate(propertySchema, member.Value, $"{path}.{member.Name}"));
                    }
                    else
                    {
                        errors.Add($"{path}: additional property '{member.Name}'");
                    }
                }

                break;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    errors.Add($"{path}: expected a string");
                }
                else if (schema.TryGetProperty("maxLength", out var maxLength) && value.GetString()!.EnumerateRunes().Count() > maxLength.GetInt32())
                {
                    errors.Add($"{path}: longer than {maxLength.GetInt32()}");
                }

                break;
            case "integer":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out _))
                {
                    errors.Add($"{path}: expected an integer");
                }

                break;
            case "array":
                if (value.ValueKind != JsonValueKind.Array)
                {
                    errors.Add($"{path}: expected an array");
                    break;
                }

                var count = value.GetArrayLength();
                if (schema.TryGetProperty("maxItems", out var maxItems) && count > maxItems.GetInt32())
                {
                    errors.Add($"{path}: more than {maxItems.GetInt32()} items");
                }

                if (schema.TryGetProperty("minItems", out var minItems) && count < minItems.GetInt32())
                {
                    errors.Add($"{path}: fewer than {minItems.GetInt32()} items");
                }

                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    errors.AddRange(Validate(schema.GetProperty("items"), item, $"{path}[{i++}]"));
                }

                break;
            default:
                errors.Add($"{path}: the test validator does not know type '{type.GetString()}'");
                break;
        }

        return errors;
    }
}
