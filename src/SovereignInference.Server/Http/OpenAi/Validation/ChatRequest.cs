using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Grammar;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>A validated POST /v1/chat/completions body.</summary>
internal sealed record ChatRequest(
    CommonParameters Common,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<ToolDefinition> Tools,
    ToolChoiceMode ToolChoice,
    string? ToolName,
    GrammarSpec? Grammar,
    string? ReasoningEffort = null)
{
    /// <summary>Chat fields we know but cannot honour; each gets a 400 naming it rather than being silently dropped.</summary>
    private static readonly string[] Unsupported = ["functions", "function_call", "audio", "prediction", "web_search_options"];

    public static ChatRequest Parse(JsonElement root)
    {
        foreach (var field in Unsupported)
        {
            if (TryGet(root, field, out _))
            {
                throw JsonFields.Unsupported(field, "this server does not implement it");
            }
        }

        if (TryGet(root, "modalities", out var modalities) && modalities.ValueKind == JsonValueKind.Array
            && modalities.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String || m.GetString() != "text"))
        {
            throw JsonFields.Unsupported("modalities", "only \"text\" output is available");
        }

        var grammar = ResponseFormatMapping.Parse(root);
        var common = CommonParameters.Parse(root, chat: true);
        var messages = ParseMessages(root);
        var tools = ParseTools(root);
        var (choice, name) = ParseToolChoice(root, tools);
        return new ChatRequest(common, messages, tools, choice, name, grammar, ParseReasoningEffort(root));
    }

    /// <summary>reasoning_effort (none, minimal, low, medium, high) or null.</summary>
    internal static string? ParseReasoningEffort(JsonElement root)
    {
        var effort = TryGet(root, "reasoning_effort", out var e) && e.ValueKind == JsonValueKind.Null ? null : String(root, "reasoning_effort");
        if (effort is not null)
        {
            ChatTurn.MistralEffort(effort);
        }

        return effort;
    }

    internal static List<ChatMessage> ParseMessages(JsonElement root)
    {
        if (!TryGet(root, "messages", out var array))
        {
            throw Invalid("messages", "is required");
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("messages", "must be an array of message objects");
        }

        var list = new List<ChatMessage>();
        var i = 0;
        foreach (var m in array.EnumerateArray())
        {
            var path = $"messages[{i}]";
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "must be an object");
            }

            var roleText = String(m, "role", path + ".role") ?? throw Invalid(path + ".role", "is required");
            var role = roleText switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" => ChatRole.Tool,
                _ => throw Invalid(path + ".role", $"must be one of system, developer, user, assistant, tool (got '{roleText}')"),
            };
            var (content, parts) = ParseContent(m, path);
            string? partThinking = null;
            if (role == ChatRole.Assistant && parts?.Any(p => p.IsThinking) == true)
            {
                // An assistant's thinking chunks are its reasoning ([THINK]…[/THINK] before the answer).
                partThinking = string.Join("\n\n", parts.Where(p => p.IsThinking).Select(p => p.Text));
                parts = [.. parts.Where(p => !p.IsThinking)];
            }

            list.Add(new ChatMessage(role, content)
            {
                Parts = parts,
                Reasoning = role == ChatRole.Assistant ? NullableString(m, "reasoning_content", path) ?? NullableString(m, "reasoning", path) ?? partThinking : null,
                Name = String(m, "name", path + ".name"),
                ToolCallId = String(m, "tool_call_id", path + ".tool_call_id"),
                ToolCalls = role == ChatRole.Assistant ? ParseToolCalls(m, path) : null,
            });
            i++;
        }

        if (list.Count == 0)
        {
            throw Invalid("messages", "must contain at least one message");
        }

        return list;
    }

    /// <summary>A string field that may also be null or absent.</summary>
    private static string? NullableString(JsonElement message, string name, string path) =>
        TryGet(message, name, out var v) && v.ValueKind == JsonValueKind.Null ? null : String(message, name, $"{path}.{name}");

    /// <summary>
    /// The content as one string (text parts joined with "\n") and, when it was a list, its parts: "text", or
    /// Mistral's "thinking" chunk ({"type": "thinking", "thinking": "…" or a list of text chunks}).
    /// </summary>
    private static (string? Text, List<ChatPart>? Parts) ParseContent(JsonElement message, string path)
    {
        if (!TryGet(message, "content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString(), null);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".content", "must be a string or an array of content parts");
        }

        var text = new StringBuilder();
        var parts = new List<ChatPart>();
        var j = 0;
        var texts = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.content[{j}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(partPath, "must be a content part object");
            }

            var type = String(part, "type", partPath + ".type");
            if (type == "thinking")
            {
                parts.Add(new ChatPart(ThinkingText(part, partPath), IsThinking: true));
                j++;
                continue;
            }

            if (type != "text")
            {
                throw JsonFields.Unsupported(partPath + ".type", $"only text and thinking content parts are accepted (got '{type}')");
            }

            if (texts++ > 0)
            {
                text.Append('\n');
            }

            var partText = String(part, "text", partPath + ".text") ?? throw Invalid(partPath + ".text", "is required");
            text.Append(partText);
            parts.Add(new ChatPart(partText));
            j++;
        }

        return (text.ToString(), parts);
    }

    /// <summary>A thinking chunk's text: "thinking" as a string, or as a list of text chunks joined.</summary>
    private static string ThinkingText(JsonElement part, string partPath)
    {
        if (!TryGet(part, "thinking", out var thinking))
        {
            throw Invalid(partPath + ".thinking", "is required");
        }

        if (thinking.ValueKind == JsonValueKind.String)
        {
            return thinking.GetString()!;
        }

        if (thinking.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(partPath + ".thinking", "must be a string or an array of text parts");
        }

        var text = new StringBuilder();
        var k = 0;
        foreach (var chunk in thinking.EnumerateArray())
        {
            var chunkPath = $"{partPath}.thinking[{k++}]";
            if (chunk.ValueKind != JsonValueKind.Object || String(chunk, "type", chunkPath + ".type") != "text")
            {
                throw Invalid(chunkPath, "must be a text part");
            }

            text.Append(String(chunk, "text", chunkPath + ".text") ?? throw Invalid(chunkPath + ".text", "is required"));
        }

        return text.ToString();
    }

    private static List<ChatToolCall>? ParseToolCalls(JsonElement message, string path)
    {
        if (!TryGet(message, "tool_calls", out var calls))
        {
            return null;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".tool_calls", "must be an array");
        }

        var list = new List<ChatToolCall>();
        var k = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = $"{path}.tool_calls[{k++}]";
            if (call.ValueKind != JsonValueKind.Object || !TryGet(call, "function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(callPath, "must be an object with a 'function' object");
            }

            var id = String(call, "id", callPath + ".id") ?? throw Invalid(callPath + ".id", "is required");
            var name = String(function, "name", callPath + ".function.name") ?? throw Invalid(callPath + ".function.name", "is required");
            var arguments = String(function, "arguments", callPath + ".function.arguments") ?? "{}";
            list.Add(new ChatToolCall(id, name, arguments));
        }

        return list;
    }

    internal static List<ToolDefinition> ParseTools(JsonElement root)
    {
        var list = new List<ToolDefinition>();
        if (!TryGet(root, "tools", out var tools))
        {
            return list;
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("tools", "must be an array of tool objects");
        }

        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "must be an object");
            }

            if (String(tool, "type", path + ".type") is { } type && type != "function")
            {
                throw JsonFields.Unsupported(path + ".type", $"only function tools are available (got '{type}')");
            }

            if (!TryGet(tool, "function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path + ".function", "is required and must be an object");
            }

            var name = String(function, "name", path + ".function.name");
            if (string.IsNullOrEmpty(name))
            {
                throw Invalid(path + ".function.name", "is required");
            }

            string? parameters = null;
            if (TryGet(function, "parameters", out var schema))
            {
                parameters = schema.ValueKind == JsonValueKind.Object ? schema.GetRawText() : throw Invalid(path + ".function.parameters", "must be a JSON Schema object");
            }

            list.Add(new ToolDefinition(name, String(function, "description", path + ".function.description"), parameters));
        }

        return list;
    }

    internal static (ToolChoiceMode, string?) ParseToolChoice(JsonElement root, List<ToolDefinition> tools)
    {
        if (!TryGet(root, "tool_choice", out var choice))
        {
            return (ToolChoiceMode.Auto, null);
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            var mode = choice.GetString() switch
            {
                "auto" => ToolChoiceMode.Auto,
                "none" => ToolChoiceMode.None,
                "required" => ToolChoiceMode.Required,
                var other => throw Invalid("tool_choice", $"must be \"none\", \"auto\", \"required\" or a named function (got '{other}')"),
            };
            if (mode == ToolChoiceMode.Required && tools.Count == 0)
            {
                throw Invalid("tool_choice", "is \"required\" but no tools are given");
            }

            return (mode, null);
        }

        if (choice.ValueKind != JsonValueKind.Object || !TryGet(choice, "function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("tool_choice", "must be a string or {\"type\":\"function\",\"function\":{\"name\":…}}");
        }

        var name = String(function, "name", "tool_choice.function.name") ?? throw Invalid("tool_choice.function.name", "is required");
        if (tools.All(t => t.Name != name))
        {
            throw Invalid("tool_choice", $"names the function '{name}', which is not among the tools");
        }

        return (ToolChoiceMode.Named, name);
    }
}
