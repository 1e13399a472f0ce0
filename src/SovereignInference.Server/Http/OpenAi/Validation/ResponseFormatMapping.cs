using System.Text.Json;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>
/// ResponseFormatMapping — the single place where OpenAI "response_format" meets the engine.
/// {"type":"text"} is the default and accepted. {"type":"json_object"} and {"type":"json_schema"} need grammar
/// constraints, which GenerationRequest does not have yet: until the lead wires them here (map the schema onto the
/// request's grammar property), they are answered 400 naming "response_format".
/// </summary>
internal static class ResponseFormatMapping
{
    public static void Check(JsonElement root)
    {
        if (!TryGet(root, "response_format", out var format))
        {
            return;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("response_format", "must be an object with a 'type'");
        }

        var type = String(format, "type", "response_format.type");
        switch (type)
        {
            case null or "text":
                return;
            case "json_object" or "json_schema":
                throw JsonFields.Unsupported("response_format", $"type '{type}' is not supported yet (grammar-constrained output is not wired to this endpoint)");
            default:
                throw Invalid("response_format", $"type must be \"text\", \"json_object\" or \"json_schema\" (got '{type}')");
        }
    }
}
