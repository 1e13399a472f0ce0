using System.Text.Json.Nodes;
using Json.Schema;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// Validates JSON against schemas taken from OpenAPI documents and Kubernetes CRDs (JsonSchema.Net, draft 2020-12).
/// OpenAPI 3.0's <c>nullable: true</c> becomes a type array with "null" (and null joins an enum) when loading,
/// so a schema written for OpenAPI 3.0 means in JSON Schema what it means there.
/// </summary>
internal static class SchemaValidation
{
    /// <summary>
    /// Builds a schema (draft 2020-12) that tolerates the extension keywords OpenAPI documents and CRDs carry
    /// (x-kubernetes-*, components, discriminator…), each in its own registry so $ids never collide.
    /// </summary>
    public static JsonSchema FromText(string json) =>
        JsonSchema.FromText(json, new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012.With([], allowUnknownKeywords: true) });

    /// <summary>The errors of <paramref name="instance"/> against <paramref name="schema"/>, one line each, located; empty when valid.</summary>
    public static List<string> Errors(JsonSchema schema, JsonNode? instance)
    {
        using var document = System.Text.Json.JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        var errors = new List<string>();
        foreach (var detail in (result.Details ?? []).Append(result))
        {
            if (detail.Errors is { Count: > 0 } messages)
            {
                errors.AddRange(messages.Select(m => $"{detail.InstanceLocation} ({detail.EvaluationPath}): {m.Key}: {m.Value}"));
            }
        }

        return errors.Count > 0 ? errors : ["invalid (no detail)"];
    }

    /// <summary>Rewrites OpenAPI 3.0 <c>nullable: true</c> in place, at every depth, to JSON Schema's type arrays.</summary>
    public static JsonNode? ConvertNullable(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var property in o.ToList())
                {
                    ConvertNullable(property.Value);
                }

                if (o["nullable"] is JsonValue nullable && nullable.TryGetValue<bool>(out var isNullable))
                {
                    o.Remove("nullable");
                    if (isNullable)
                    {
                        MakeNullable(o);
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    ConvertNullable(item);
                }

                break;
        }

        return node;
    }

    private static void MakeNullable(JsonObject schema)
    {
        if (schema["enum"] is JsonArray values && !values.Any(v => v is null))
        {
            values.Add(null);
        }

        switch (schema["type"])
        {
            case JsonValue single:
                schema["type"] = new JsonArray((string)single!, "null");
                break;
            case JsonArray types when !types.Any(t => (string?)t == "null"):
                types.Add("null");
                break;
            case null:
                // No type (a $ref or a combinator): null or whatever the rest allows.
                var rest = new JsonObject();
                foreach (var property in schema.ToList())
                {
                    schema.Remove(property.Key);
                    rest[property.Key] = property.Value;
                }

                schema["anyOf"] = new JsonArray(rest, new JsonObject { ["type"] = "null" });
                break;
        }
    }
}
