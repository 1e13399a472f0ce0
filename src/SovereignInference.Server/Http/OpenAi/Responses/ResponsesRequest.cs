using System.Text.Json;
using System.Text.Json.Nodes;
using SovereignInference.Engine.Errors;
using SovereignInference.Server.Http.OpenAi.Validation;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Responses;

/// <summary>
/// A validated POST /v1/responses body. The Responses API is an adapter over chat: its input items, instructions,
/// tools, tool_choice and text.format are translated into a chat request (the same validation, the same engine
/// call), and what is Responses-only (store, previous_response_id, metadata) is kept beside it.
/// </summary>
internal sealed record ResponsesRequest(
    ChatRequest Chat,
    JsonArray Conversation,
    string? Instructions,
    bool Store,
    string? PreviousResponseId,
    JsonObject Echo)
{
    /// <summary>Fields of the Responses API this server cannot honour: a 400 naming each rather than silent loss.</summary>
    private static readonly string[] Unsupported = ["conversation", "prompt"];

    /// <param name="root">The request body.</param>
    /// <param name="previous">The chat messages of the stored response named by previous_response_id (already resolved), or null.</param>
    public static ResponsesRequest Parse(JsonElement root, JsonArray? previous)
    {
        foreach (var field in Unsupported)
        {
            if (TryGet(root, field, out _))
            {
                throw JsonFields.Unsupported(field, "this server does not implement it");
            }
        }

        if (Bool(root, "background") == true)
        {
            throw JsonFields.Unsupported("background", "responses run in the foreground only");
        }

        var model = String(root, "model") ?? throw Invalid("model", "is required");
        var instructions = String(root, "instructions");
        var conversation = previous is null ? [] : (JsonArray)previous.DeepClone();
        if (!TryGet(root, "input", out var input))
        {
            throw Invalid("input", "is required");
        }

        AppendInput(conversation, input);
        if (conversation.Count == 0)
        {
            throw Invalid("input", "must contain at least one message or item");
        }

        var messages = new JsonArray();
        if (!string.IsNullOrEmpty(instructions))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        foreach (var message in conversation)
        {
            messages.Add(message!.DeepClone());
        }

        var chat = new JsonObject
        {
            ["model"] = model,
            ["messages"] = messages,
            ["stream"] = Bool(root, "stream") ?? false,
        };
        CopyNumber(root, "max_output_tokens", chat, "max_tokens");
        CopyNumber(root, "temperature", chat, "temperature");
        CopyNumber(root, "top_p", chat, "top_p");
        CopyNumber(root, "top_logprobs", chat, "top_logprobs");
        if (chat["top_logprobs"] is not null)
        {
            chat["logprobs"] = true;
        }

        if (TryGet(root, "reasoning", out var reasoning) && reasoning.ValueKind == JsonValueKind.Object
            && TryGet(reasoning, "effort", out var effort) && effort.ValueKind != JsonValueKind.Null)
        {
            chat["reasoning_effort"] = JsonNode.Parse(effort.GetRawText());
        }

        if (String(root, "user") is { } user)
        {
            chat["user"] = user;
        }

        var echo = new JsonObject();
        if (TryGet(root, "tools", out var tools))
        {
            chat["tools"] = MapTools(tools);
            echo["tools"] = JsonNode.Parse(tools.GetRawText());
        }

        if (TryGet(root, "tool_choice", out var toolChoice))
        {
            chat["tool_choice"] = MapToolChoice(toolChoice);
            echo["tool_choice"] = JsonNode.Parse(toolChoice.GetRawText());
        }

        if (TryGet(root, "text", out var text))
        {
            if (text.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("text", "must be an object");
            }

            if (TryGet(text, "format", out var format))
            {
                if (MapFormat(format) is { } responseFormat)
                {
                    chat["response_format"] = responseFormat;
                }

                echo["text"] = new JsonObject { ["format"] = JsonNode.Parse(format.GetRawText()) };
            }
        }

        if (TryGet(root, "metadata", out var metadata))
        {
            echo["metadata"] = metadata.ValueKind == JsonValueKind.Object && metadata.EnumerateObject().Count() <= 16
                ? JsonNode.Parse(metadata.GetRawText())
                : throw Invalid("metadata", "must be an object of at most 16 string pairs");
        }

        var request = TranslatedChatBody.Parse(chat, RenamedParam);
        return new ResponsesRequest(
            request,
            conversation,
            instructions,
            Bool(root, "store") ?? true,
            String(root, "previous_response_id"),
            echo);
    }

    /// <summary>The chat messages the Responses API's input adds (a string is one user message).</summary>
    private static void AppendInput(JsonArray conversation, JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            conversation.Add(new JsonObject { ["role"] = "user", ["content"] = input.GetString() });
            return;
        }

        if (input.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("input", "must be a string or an array of input items");
        }

        var i = 0;
        foreach (var item in input.EnumerateArray())
        {
            var path = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "must be an object");
            }

            var type = String(item, "type", path + ".type") ?? (TryGet(item, "role", out _) ? "message" : throw Invalid(path + ".type", "is required"));
            switch (type)
            {
                case "message":
                    conversation.Add(Message(item, path));
                    break;
                case "function_call":
                    var callId = String(item, "call_id", path + ".call_id") ?? throw Invalid(path + ".call_id", "is required");
                    var name = String(item, "name", path + ".name") ?? throw Invalid(path + ".name", "is required");
                    var call = new JsonObject
                    {
                        ["id"] = callId,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = String(item, "arguments", path + ".arguments") ?? "{}" },
                    };

                    // Consecutive calls are one assistant turn with several tool calls (parallel calls).
                    if (conversation.Count > 0 && conversation[^1] is JsonObject last && (string?)last["role"] == "assistant" && last["tool_calls"] is JsonArray calls && last["content"] is null)
                    {
                        calls.Add(call);
                    }
                    else
                    {
                        conversation.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call) });
                    }

                    break;
                case "function_call_output":
                    conversation.Add(new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = String(item, "call_id", path + ".call_id") ?? throw Invalid(path + ".call_id", "is required"),
                        ["content"] = OutputText(item, path),
                    });
                    break;
                case "reasoning":
                    // The model's earlier thinking is not replayed into the prompt (as Mistral's reference drops
                    // the thinking of earlier turns).
                    break;
                default:
                    throw JsonFields.Unsupported(path + ".type", $"input items of type '{type}' are not available (message, function_call, function_call_output, reasoning are)");
            }
        }
    }

    private static JsonObject Message(JsonElement item, string path)
    {
        var role = String(item, "role", path + ".role") ?? throw Invalid(path + ".role", "is required");
        if (role is not ("user" or "system" or "developer" or "assistant"))
        {
            throw Invalid(path + ".role", $"must be user, system, developer or assistant (got '{role}')");
        }

        if (!TryGet(item, "content", out var content))
        {
            throw Invalid(path + ".content", "is required");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return new JsonObject { ["role"] = role, ["content"] = content.GetString() };
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".content", "must be a string or an array of content parts");
        }

        var parts = new JsonArray();
        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.content[{j++}]";
            var partType = part.ValueKind == JsonValueKind.Object ? String(part, "type", partPath + ".type") : throw Invalid(partPath, "must be an object");
            if (partType is not ("input_text" or "output_text" or "text"))
            {
                throw JsonFields.Unsupported(partPath + ".type", $"only text parts are accepted (got '{partType}')");
            }

            parts.Add(new JsonObject { ["type"] = "text", ["text"] = String(part, "text", partPath + ".text") ?? throw Invalid(partPath + ".text", "is required") });
        }

        return new JsonObject { ["role"] = role, ["content"] = parts };
    }

    private static string OutputText(JsonElement item, string path)
    {
        if (!TryGet(item, "output", out var output))
        {
            throw Invalid(path + ".output", "is required");
        }

        if (output.ValueKind == JsonValueKind.String)
        {
            return output.GetString()!;
        }

        if (output.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path + ".output", "must be a string or an array of text parts");
        }

        var texts = new List<string>();
        var j = 0;
        foreach (var part in output.EnumerateArray())
        {
            var partPath = $"{path}.output[{j++}]";
            if (part.ValueKind != JsonValueKind.Object || String(part, "type", partPath + ".type") is not ("input_text" or "output_text" or "text"))
            {
                throw JsonFields.Unsupported(partPath, "only text parts are accepted");
            }

            texts.Add(String(part, "text", partPath + ".text") ?? "");
        }

        return string.Join('\n', texts);
    }

    /// <summary>Responses tools are flat ({type, name, parameters}); chat nests them under "function".</summary>
    private static JsonArray MapTools(JsonElement tools) => TranslatedChatBody.Tools(tools, static (tool, path) =>
    {
        var type = String(tool, "type", path + ".type");
        if (type != "function")
        {
            throw JsonFields.Unsupported(path + ".type", $"only function tools are available (got '{type}')");
        }

        var function = new JsonObject { ["name"] = String(tool, "name", path + ".name") ?? throw Invalid(path + ".name", "is required") };
        if (String(tool, "description", path + ".description") is { } description)
        {
            function["description"] = description;
        }

        if (TryGet(tool, "parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
        {
            function["parameters"] = parameters.ValueKind == JsonValueKind.Object ? JsonNode.Parse(parameters.GetRawText()) : throw Invalid(path + ".parameters", "must be a JSON Schema object");
        }

        return function;
    });

    private static JsonNode MapToolChoice(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            return JsonValue.Create(choice.GetString())!;
        }

        if (choice.ValueKind == JsonValueKind.Object && String(choice, "type", "tool_choice.type") == "function")
        {
            var name = String(choice, "name", "tool_choice.name") ?? throw Invalid("tool_choice.name", "is required");
            return new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
        }

        throw Invalid("tool_choice", "must be \"none\", \"auto\", \"required\" or {\"type\":\"function\",\"name\":…}");
    }

    /// <summary>text.format → chat's response_format (json_schema through the grammar path); "text" is none.</summary>
    private static JsonObject? MapFormat(JsonElement format)
    {
        var type = format.ValueKind == JsonValueKind.Object ? String(format, "type", "text.format.type") : throw Invalid("text.format", "must be an object");
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema":
                var schema = new JsonObject { ["name"] = String(format, "name", "text.format.name") ?? "response" };
                if (TryGet(format, "schema", out var body))
                {
                    schema["schema"] = JsonNode.Parse(body.GetRawText());
                }

                if (Bool(format, "strict") is { } strict)
                {
                    schema["strict"] = strict;
                }

                return new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
            default:
                throw Invalid("text.format.type", $"must be text, json_object or json_schema (got '{type}')");
        }
    }

    private static void CopyNumber(JsonElement root, string from, JsonObject to, string name)
    {
        if (TryGet(root, from, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            to[name] = JsonNode.Parse(value.GetRawText());
        }
    }

    private static string? RenamedParam(string chatParam) => chatParam switch
    {
        "max_tokens" => "max_output_tokens",
        "reasoning_effort" => "reasoning.effort",
        "response_format" => "text.format",
        var p when p.StartsWith("response_format.json_schema", StringComparison.Ordinal) => "text.format" + p["response_format.json_schema".Length..],
        var p when p.StartsWith("tool_choice.function", StringComparison.Ordinal) => "tool_choice" + p["tool_choice.function".Length..],
        var p when p.StartsWith("tools[", StringComparison.Ordinal) && p.Contains(".function.", StringComparison.Ordinal) => p.Replace(".function.", ".", StringComparison.Ordinal),
        var p when p.StartsWith("messages", StringComparison.Ordinal) => "input",
        _ => null,
    };
}
