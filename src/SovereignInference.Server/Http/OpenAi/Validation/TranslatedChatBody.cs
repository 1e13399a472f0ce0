using System.Text.Json;
using System.Text.Json.Nodes;
using SovereignInference.Engine.Errors;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>
/// What the APIs that are adapters over chat (Responses, Anthropic Messages) share: their body is translated into a
/// chat completions body, which then passes the one chat validation; errors name the caller's own fields.
/// </summary>
internal static class TranslatedChatBody
{
    /// <summary>Validates <paramref name="chat"/> as a chat request; a field error is renamed by <paramref name="renamedParam"/>.</summary>
    public static ChatRequest Parse(JsonObject chat, Func<string, string?> renamedParam)
    {
        ArgumentNullException.ThrowIfNull(chat);
        ArgumentNullException.ThrowIfNull(renamedParam);
        using var document = JsonDocument.Parse(chat.ToJsonString());
        try
        {
            return ChatRequest.Parse(document.RootElement);
        }
        catch (EngineException ex) when (ex.Param is { } param && renamedParam(param) is { } renamed)
        {
            throw new EngineException(ex.Code, ex.Message.Replace($"'{param}'", $"'{renamed}'", StringComparison.Ordinal), renamed);
        }
    }

    /// <summary>
    /// The caller's tool list as chat tools: each element must be an object; <paramref name="function"/> turns one
    /// (with its path, e.g. "tools[2]") into chat's <c>function</c> object.
    /// </summary>
    public static JsonArray Tools(JsonElement tools, Func<JsonElement, string, JsonObject> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("tools", "must be an array of tool objects");
        }

        var mapped = new JsonArray();
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "must be an object");
            }

            mapped.Add(new JsonObject { ["type"] = "function", ["function"] = function(tool, path) });
        }

        return mapped;
    }
}
