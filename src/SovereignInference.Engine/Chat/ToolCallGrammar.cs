using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// The grammar that makes a forced reply (tool_choice "required" or a named function) a valid call: the text the
/// model writes after the prompt, which already ends with [TOOL_CALLS] (and, for a named function, its name):
/// <list type="bullet">
/// <item>v11 and later, named: the arguments JSON; required: name[ARGS]{…} calls, joined by [TOOL_CALLS];</item>
/// <item>v2 … v7, named: the arguments JSON then "}]"; required: the JSON list [{"name": …, "arguments": {…}}, …].</item>
/// </list>
/// Arguments follow each tool's parameter schema through <see cref="JsonSchemaGrammar"/>; a schema it cannot
/// express is relaxed to any JSON object. End-of-generation is allowed only once the calls are complete.
/// </summary>
public static class ToolCallGrammar
{
    /// <summary>Most calls one forced reply may hold (parallel calls), so that a reply always ends.</summary>
    public const int MaxCalls = 4;

    public static GrammarSpec For(MistralTemplateVersion version, IReadOnlyList<ToolDefinition> tools, string? forcedFunction)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var chosen = forcedFunction is null ? tools : [.. tools.Where(t => string.Equals(t.Name, forcedFunction, StringComparison.Ordinal)).Take(1)];
        if (chosen.Count == 0)
        {
            throw EngineException.Invalid("tool_choice", $"no tool is named '{forcedFunction}'");
        }

        var schemas = new List<(string RuleName, JsonElement? Schema)>();
        for (var i = 0; i < chosen.Count; i++)
        {
            schemas.Add(($"args-{i}", Schema(chosen[i].ParametersJson)));
        }

        var argsFormat = MistralChatFormatter.UsesArgsToken(version);
        string root;
        if (forcedFunction is not null)
        {
            root = argsFormat ? "args-0" : "args-0 \"}\" space \"]\"";
        }
        else if (argsFormat)
        {
            var call = string.Join(" | ", chosen.Select((t, i) => $"{GbnfValidator.Literal(t.Name)} {GbnfValidator.Literal("[ARGS]")} args-{i}"));
            root = $"( {call} ) ( {GbnfValidator.Literal("[TOOL_CALLS]")} ( {call} ) ){{0,{MaxCalls - 1}}}";
        }
        else
        {
            var call = string.Join(" | ", chosen.Select((t, i) =>
                $"{GbnfValidator.Literal(JsonSerializer.Serialize(t.Name))} space \",\" space \"\\\"arguments\\\"\" space \":\" space args-{i}"));
            var item = $"\"{{\" space \"\\\"name\\\"\" space \":\" space ( {call} ) \"}}\" space";
            root = $"\"[\" space {item} ( \",\" space {item} ){{0,{MaxCalls - 1}}} \"]\"";
        }

        // A SentencePiece model writes the first piece after a control token with its "▁" (mistral-common's
        // "[TOOL_CALLS]▁[{…"), and so may any model after [ARGS]: one optional space leads.
        root = "space " + root;
        try
        {
            return JsonSchemaGrammar.Compose(root, schemas);
        }
        catch (EngineException)
        {
            // A schema the converter cannot express: any JSON object for every tool still makes a valid call.
            return JsonSchemaGrammar.Compose(root, [.. schemas.Select(s => (s.RuleName, (JsonElement?)null))]);
        }
    }

    private static JsonElement? Schema(string? parametersJson)
    {
        if (string.IsNullOrWhiteSpace(parametersJson))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(parametersJson);
            var schema = document.RootElement.Clone();
            return schema.ValueKind == JsonValueKind.Object && !schema.EnumerateObject().Any() ? null : schema;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
