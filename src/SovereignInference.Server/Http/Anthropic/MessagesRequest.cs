using System.Text.Json;
using System.Text.Json.Nodes;
using SovereignInference.Engine.Errors;
using SovereignInference.Server.Http.OpenAi.Validation;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.Anthropic;

/// <summary>
/// A validated POST /v1/messages (or /v1/messages/count_tokens) body. Like the Responses API, an adapter over
/// chat: system, messages with text / tool_use / tool_result blocks, tools, tool_choice and stop_sequences are
/// translated into a chat request that runs through the same validation and engine call.
/// </summary>
internal sealed record MessagesRequest(ChatRequest Chat, bool Thinking)
{
    private static readonly string[] Unsupported = ["container", "mcp_servers"];

    /// <param name="countOnly">count_tokens: max_tokens is not required.</param>
    public static MessagesRequest Parse(JsonElement root, bool countOnly = false)
    {
        foreach (var field in Unsupported)
        {
            if (TryGet(root, field, out _))
            {
                throw JsonFields.Unsupported(field, "this server does not implement it");
            }
        }

        var model = String(root, "model") ?? throw Invalid("model", "is required");
        var maxTokens = Integer(root, "max_tokens", 1, int.MaxValue);
        if (maxTokens is null && !countOnly)
        {
            throw Invalid("max_tokens", "is required");
        }

        var messages = new JsonArray();
        if (TryGet(root, "system", out var system))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = SystemText(system) });
        }

        if (!TryGet(root, "messages", out var input) || input.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("messages", "is required and must be an array of messages");
        }

        var i = 0;
        foreach (var message in input.EnumerateArray())
        {
            AppendMessage(messages, message, $"messages[{i++}]");
        }

        if (i == 0)
        {
            throw Invalid("messages", "must contain at least one message");
        }

        var chat = new JsonObject { ["model"] = model, ["messages"] = messages, ["stream"] = Bool(root, "stream") ?? false };
        if (maxTokens is { } max)
        {
            chat["max_tokens"] = max;
        }

        foreach (var (from, to) in new[] { ("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"), ("stop_sequences", "stop") })
        {
            if (TryGet(root, from, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                chat[to] = JsonNode.Parse(value.GetRawText());
            }
        }

        if (TryGet(root, "metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object && String(metadata, "user_id", "metadata.user_id") is { } user)
        {
            chat["user"] = user;
        }

        if (TryGet(root, "tools", out var tools))
        {
            chat["tools"] = MapTools(tools);
        }

        if (TryGet(root, "tool_choice", out var toolChoice))
        {
            chat["tool_choice"] = MapToolChoice(toolChoice);
        }

        var thinking = false;
        if (TryGet(root, "thinking", out var thinkingConfig))
        {
            var type = thinkingConfig.ValueKind == JsonValueKind.Object ? String(thinkingConfig, "type", "thinking.type") : throw Invalid("thinking", "must be an object");
            thinking = type switch
            {
                "enabled" or "adaptive" => true,
                "disabled" => false,
                _ => throw Invalid("thinking.type", $"must be enabled or disabled (got '{type}')"),
            };
        }

        if (TryGet(root, "thinking", out _))
        {
            // Mapped to the format's reasoning setting (v15 [MODEL_SETTINGS]); formats without one think as trained.
            chat["reasoning_effort"] = thinking ? "high" : "none";
        }

        return new MessagesRequest(TranslatedChatBody.Parse(chat, RenamedParam), thinking);
    }

    private static string SystemText(JsonElement system)
    {
        if (system.ValueKind == JsonValueKind.String)
        {
            return system.GetString()!;
        }

        if (system.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("system", "must be a string or an array of text blocks");
        }

        var texts = new List<string>();
        var j = 0;
        foreach (var block in system.EnumerateArray())
        {
            var path = $"system[{j++}]";
            if (block.ValueKind != JsonValueKind.Object || String(block, "type", path + ".type") != "text")
            {
                throw Invalid(path, "must be a text block");
            }

            texts.Add(String(block, "text", path + ".text") ?? throw Invalid(path + ".text", "is required"));
        }

        return string.Join("\n\n", texts);
    }

    /// <summary>One Anthropic message as chat messages: tool_result blocks become tool messages, tool_use blocks tool calls.</summary>
    private static void AppendMessage(JsonArray messages, JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, "must be an object");
        }

        var role = String(message, "role", path + ".role");
        if (role is not ("user" or "assistant"))
        {
            throw Invalid(path + ".role", $"must be user or assistant (got '{role}')");
        }

        if (!TryGet(message, "content", out var content))
        {
            throw Invalid(path + ".content", "is required");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = content.GetString() });
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".content", "must be a string or an array of content blocks");
        }

        var texts = new List<string>();
        var calls = new JsonArray();
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = $"{path}.content[{j++}]";
            var type = block.ValueKind == JsonValueKind.Object ? String(block, "type", blockPath + ".type") : throw Invalid(blockPath, "must be an object");
            switch (type)
            {
                case "text":
                    texts.Add(String(block, "text", blockPath + ".text") ?? throw Invalid(blockPath + ".text", "is required"));
                    break;
                case "tool_use" when role == "assistant":
                    var input = TryGet(block, "input", out var arguments) ? arguments : default;
                    if (input.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
                    {
                        throw Invalid(blockPath + ".input", "must be an object");
                    }

                    calls.Add(new JsonObject
                    {
                        ["id"] = String(block, "id", blockPath + ".id") ?? throw Invalid(blockPath + ".id", "is required"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = String(block, "name", blockPath + ".name") ?? throw Invalid(blockPath + ".name", "is required"),
                            ["arguments"] = input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}",
                        },
                    });
                    break;
                case "tool_result" when role == "user":
                    messages.Add(new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = String(block, "tool_use_id", blockPath + ".tool_use_id") ?? throw Invalid(blockPath + ".tool_use_id", "is required"),
                        ["content"] = (Bool(block, "is_error") == true ? "Error: " : "") + ResultText(block, blockPath),
                    });
                    break;
                case "thinking" or "redacted_thinking" when role == "assistant":
                    // Earlier thinking is not replayed into the prompt (Mistral's reference drops it too).
                    break;
                default:
                    throw JsonFields.Unsupported(blockPath + ".type", $"'{type}' blocks are not available in {role} messages (text, tool_use in assistant, tool_result in user, thinking are)");
            }
        }

        if (calls.Count > 0)
        {
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = texts.Count > 0 ? string.Join("\n", texts) : null, ["tool_calls"] = calls });
        }
        else if (texts.Count > 0)
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = string.Join("\n", texts) });
        }
    }

    private static string ResultText(JsonElement block, string path)
    {
        if (!TryGet(block, "content", out var content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".content", "must be a string or an array of text blocks");
        }

        return string.Join("\n", content.EnumerateArray().Select((part, k) =>
            part.ValueKind == JsonValueKind.Object && String(part, "type", $"{path}.content[{k}].type") == "text"
                ? String(part, "text", $"{path}.content[{k}].text") ?? ""
                : throw JsonFields.Unsupported($"{path}.content[{k}]", "only text blocks are accepted in tool results")));
    }

    private static JsonArray MapTools(JsonElement tools) => TranslatedChatBody.Tools(tools, static (tool, path) =>
    {
        if (String(tool, "type", path + ".type") is { } type && type != "custom")
        {
            throw JsonFields.Unsupported(path + ".type", $"only custom (client) tools are available (got '{type}')");
        }

        var function = new JsonObject { ["name"] = String(tool, "name", path + ".name") ?? throw Invalid(path + ".name", "is required") };
        if (String(tool, "description", path + ".description") is { } description)
        {
            function["description"] = description;
        }

        if (!TryGet(tool, "input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path + ".input_schema", "is required and must be a JSON Schema object");
        }

        function["parameters"] = JsonNode.Parse(schema.GetRawText());
        return function;
    });

    private static JsonNode MapToolChoice(JsonElement choice)
    {
        var type = choice.ValueKind == JsonValueKind.Object ? String(choice, "type", "tool_choice.type") : throw Invalid("tool_choice", "must be an object");
        return type switch
        {
            "auto" => JsonValue.Create("auto")!,
            "any" => JsonValue.Create("required")!,
            "none" => JsonValue.Create("none")!,
            "tool" => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = String(choice, "name", "tool_choice.name") ?? throw Invalid("tool_choice.name", "is required") } },
            _ => throw Invalid("tool_choice.type", $"must be auto, any, tool or none (got '{type}')"),
        };
    }

    private static string? RenamedParam(string chatParam) => chatParam switch
    {
        "stop" => "stop_sequences",
        var p when p.StartsWith("tool_choice.function", StringComparison.Ordinal) => "tool_choice" + p["tool_choice.function".Length..],
        var p when p.StartsWith("tools[", StringComparison.Ordinal) && p.Contains(".function.parameters", StringComparison.Ordinal) => p.Replace(".function.parameters", ".input_schema", StringComparison.Ordinal),
        var p when p.StartsWith("tools[", StringComparison.Ordinal) && p.Contains(".function.", StringComparison.Ordinal) => p.Replace(".function.", ".", StringComparison.Ordinal),
        var p when p.StartsWith("messages", StringComparison.Ordinal) => "messages",
        _ => null,
    };
}
