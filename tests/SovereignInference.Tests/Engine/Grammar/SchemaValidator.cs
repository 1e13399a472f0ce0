using System.Globalization;
using System.Text.Json;
using Json.Schema;

namespace SovereignInference.Tests.Engine.Grammar;

/// <summary>
/// Checks generated JSON against its schema with JsonSchema.Net (a full JSON Schema implementation, not the
/// project's own code), plus one thing JSON Schema does not say: every number is finite as a double.
/// </summary>
internal static class SchemaValidator
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

    /// <summary>The violations of <paramref name="value"/> against <paramref name="schema"/> (empty when it is valid).</summary>
    public static List<string> Validate(JsonElement schema, JsonElement value)
    {
        // Draft 2020-12 ($defs), or draft-07 for a schema that keeps its definitions under "definitions".
        var dialect = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("definitions", out _) ? Dialect.Draft07 : Dialect.Draft202012;
        var built = JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = dialect });
        var results = built.Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = new List<string>();
        if (!results.IsValid)
        {
            errors.AddRange((results.Details ?? []).Where(d => d.Errors is not null)
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));
            if (errors.Count == 0)
            {
                errors.Add("invalid");
            }
        }

        AddNonFiniteNumbers(value, "$", errors);
        return errors;
    }

    private static void AddNonFiniteNumbers(JsonElement value, string path, List<string> errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when !double.IsFinite(double.Parse(value.GetRawText(), CultureInfo.InvariantCulture)):
                errors.Add($"{path}: {value.GetRawText()} is not a finite double");
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    AddNonFiniteNumbers(property.Value, path + "." + property.Name, errors);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    AddNonFiniteNumbers(item, $"{path}[{i++}]", errors);
                }

                break;
        }
    }
}
