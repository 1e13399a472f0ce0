using System.Text.Json.Nodes;
using Json.Schema;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Observability.InferenceGateway;

/// <summary>
/// The openAPIV3Schema of each served version of the vendored CRDs (crds/), as JSON Schemas: OpenAPI's nullable
/// becomes a type array, x-kubernetes-int-or-string an integer-or-string, and an object that lists its properties
/// refuses others (unless x-kubernetes-preserve-unknown-fields), as kubectl's strict field validation does.
/// </summary>
internal static class CrdSchemas
{
    private static readonly Lazy<Dictionary<(string ApiVersion, string Kind), JsonSchema>> All = new(Load);

    /// <summary>The schema for a resource's apiVersion and kind, or null when no vendored CRD defines it.</summary>
    public static JsonSchema? For(string apiVersion, string kind) => All.Value.GetValueOrDefault((apiVersion, kind));

    private static Dictionary<(string, string), JsonSchema> Load()
    {
        var schemas = new Dictionary<(string, string), JsonSchema>();
        foreach (var file in Directory.EnumerateFiles(RepositoryFiles.PathOf("tests/SovereignInference.Tests/Server/Observability/InferenceGateway/crds"), "*.yaml"))
        {
            var crd = YamlJson.Documents(File.ReadAllText(file)).Single()!;
            Assert.Equal("CustomResourceDefinition", (string?)crd["kind"]);
            var group = (string)crd["spec"]!["group"]!;
            var kind = (string)crd["spec"]!["names"]!["kind"]!;
            foreach (var version in crd["spec"]!["versions"]!.AsArray())
            {
                if ((bool?)version!["served"] != true)
                {
                    continue;
                }

                var schema = version["schema"]!["openAPIV3Schema"]!.DeepClone();
                Convert(schema);
                schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
                schemas[($"{group}/{(string)version["name"]!}", kind)] = SchemaValidation.FromText(schema.ToJsonString());
            }
        }

        return schemas;
    }

    private static void Convert(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject schema:
                SchemaValidation.ConvertNullable(schema);
                if (schema["x-kubernetes-int-or-string"] is JsonValue intOrString && (bool)intOrString)
                {
                    schema["type"] = new JsonArray("integer", "string");
                }

                var preserve = schema["x-kubernetes-preserve-unknown-fields"] is JsonValue p && (bool)p;
                if (schema["properties"] is JsonObject properties)
                {
                    foreach (var property in properties)
                    {
                        Convert(property.Value);
                    }

                    if (!preserve && schema["additionalProperties"] is null)
                    {
                        schema["additionalProperties"] = false;
                    }
                }

                Convert(schema["items"]);
                Convert(schema["additionalProperties"]);
                foreach (var combinator in new[] { "allOf", "anyOf", "oneOf" })
                {
                    if (schema[combinator] is JsonArray options)
                    {
                        foreach (var option in options)
                        {
                            Convert(option);
                        }
                    }
                }

                break;
        }
    }
}
