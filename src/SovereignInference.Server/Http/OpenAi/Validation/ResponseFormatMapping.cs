using System.Text.Json;
using SovereignInference.Engine.Grammar;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>
/// ResponseFormatMapping — the single place where OpenAI "response_format" meets the engine's grammar:
/// {"type":"text"} (the default) → no grammar; {"type":"json_object"} → <see cref="JsonSchemaGrammar.JsonObject"/>;
/// {"type":"json_schema","json_schema":{"name":…,"schema":{…}}} → <see cref="JsonSchemaGrammar.FromSchema(JsonElement)"/>
/// (a json_schema without "schema" is any JSON object). Schema keywords the converter cannot honour are a 400
/// naming "response_format".
/// </summary>
internal static class ResponseFormatMapping
{
    public static GrammarSpec? Parse(JsonElement root)
    {
        if (!TryGet(root, "response_format", out var format))
        {
            return null;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("response_format", "must be an object with a 'type'");
        }

        var type = String(format, "type", "response_format.type");
        switch (type)
        {
            case null or "text":
                return null;
            case "json_object":
                return JsonSchemaGrammar.JsonObject();
            case "json_schema":
                if (!TryGet(format, "json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid("response_format.json_schema", "is required for type \"json_schema\" and must be an object");
                }

                if (!TryGet(spec, "schema", out var schema))
                {
                    return JsonSchemaGrammar.JsonObject();
                }

                return schema.ValueKind == JsonValueKind.Object
                    ? JsonSchemaGrammar.FromSchema(schema)
                    : throw Invalid("response_format.json_schema.schema", "must be a JSON Schema object");
            default:
                throw Invalid("response_format", $"type must be \"text\", \"json_object\" or \"json_schema\" (got '{type}')");
        }
    }
}
