using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Json.Schema;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi.Conformance;

/// <summary>
/// The response schemas of OpenAI's published OpenAPI document (openai-openapi/schemas.json: the closure of the
/// roots under $ref, vendored with the spec's MIT licence). Each root becomes a JSON Schema whose $defs hold every
/// vendored schema, "#/components/schemas/X" references rewritten to "#/$defs/X".
/// </summary>
internal static class OpenAiSpec
{
    public const string ChatCompletion = "CreateChatCompletionResponse";
    public const string ChatCompletionChunk = "CreateChatCompletionStreamResponse";
    public const string Completion = "CreateCompletionResponse";
    public const string ModelList = "ListModelsResponse";
    public const string Model = "Model";
    public const string EmbeddingList = "CreateEmbeddingResponse";
    public const string Error = "ErrorResponse";

    /// <summary>
    /// A chunk of a streamed completion. The spec has no schema of its own for it (the stream "is the completion
    /// object"), but OpenAI sends "finish_reason": null on every chunk but the last, as SDKs expect: this is
    /// CreateCompletionResponse with a nullable finish_reason, a derived schema and no part of the spec.
    /// </summary>
    public const string CompletionChunk = "x-CompletionStreamChunk";

    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new();
    private static readonly Lazy<JsonObject> Definitions = new(LoadDefinitions);

    /// <summary>The schema errors of <paramref name="body"/> as an instance of the spec's schema <paramref name="name"/>.</summary>
    public static List<string> Errors(string name, JsonNode? body) =>
        SchemaValidation.Errors(Schemas.GetOrAdd(name, Build), body);

    /// <summary>Asserts <paramref name="json"/> is a valid <paramref name="name"/>, naming every violation.</summary>
    public static void AssertValid(string name, string json, string what)
    {
        var errors = Errors(name, JsonNode.Parse(json));
        Assert.True(errors.Count == 0, $"{what} is not a valid {name}:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}{Environment.NewLine}{json}");
    }

    private static JsonSchema Build(string name)
    {
        Assert.True(Definitions.Value.ContainsKey(name), $"{name} is not vendored");
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"https://sovereign.invalid/openai-openapi/{name}.json",
            ["$defs"] = Definitions.Value.DeepClone(),
            ["$ref"] = "#/$defs/" + name,
        };
        return SchemaValidation.FromText(root.ToJsonString());
    }

    private static JsonObject LoadDefinitions()
    {
        var document = JsonNode.Parse(File.ReadAllText(RepositoryFiles.PathOf("tests/SovereignInference.Tests/Server/Http/OpenAi/Conformance/openai-openapi/schemas.json")))!;
        var schemas = document["components"]!["schemas"]!.AsObject();
        SchemaValidation.ConvertNullable(schemas);
        RewriteReferences(schemas);
        var chunk = schemas[Completion]!.DeepClone().AsObject();
        var finishReason = chunk["properties"]!["choices"]!["items"]!["properties"]!["finish_reason"]!.AsObject();
        finishReason["nullable"] = true;
        SchemaValidation.ConvertNullable(finishReason);
        schemas[CompletionChunk] = chunk;
        return schemas;
    }

    private static void RewriteReferences(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue reference && ((string)reference!).StartsWith("#/components/schemas/", StringComparison.Ordinal))
                {
                    o["$ref"] = "#/$defs/" + ((string)reference!)["#/components/schemas/".Length..];
                }

                foreach (var property in o.ToList())
                {
                    RewriteReferences(property.Value);
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    RewriteReferences(item);
                }

                break;
        }
    }
}
