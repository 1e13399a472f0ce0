using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Renders a conversation the way mistral-common's instruct tokenizers do (InstructTokenizerV1/V3/V7, SentencePiece
/// and Tekken), after checking that the format can express it. Conversations it cannot express throw
/// <see cref="EngineException"/> InvalidArgument naming "messages" (or "tools") and the reason.
/// </summary>
public static class MistralChatFormatter
{
    /// <param name="messages">The conversation; it must end with a user or tool message.</param>
    /// <param name="tools">Functions the model may call (rendered before the last user message), or null.</param>
    /// <param name="version">The model's format.</param>
    /// <param name="forceToolCall">Open the answer with [TOOL_CALLS] (tool_choice "required" or a named function).</param>
    /// <param name="forcedFunction">With <paramref name="forceToolCall"/>: also write the call's name, leaving the model the arguments.</param>
    public static ChatPrompt Format(
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<ToolDefinition>? tools,
        MistralTemplateVersion version,
        bool forceToolCall = false,
        string? forcedFunction = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var conversation = Normalize(messages, tools, version, out var systemPrompt);
        var v7 = version is MistralTemplateVersion.V7 or MistralTemplateVersion.V7Tekken;
        var segments = new List<PromptSegment> { Control("<s>") };
        var firstUser = conversation.FindIndex(m => m.Role == ChatRole.User);
        var lastUser = conversation.FindLastIndex(m => m.Role == ChatRole.User);

        for (var i = 0; i < conversation.Count; i++)
        {
            var message = conversation[i];
            switch (message.Role)
            {
                case ChatRole.System:
                    // Only v7 keeps system messages in place; older versions moved them into a user turn.
                    segments.Add(Control("[SYSTEM_PROMPT]"));
                    segments.Add(Text(message.Content ?? ""));
                    segments.Add(Control("[/SYSTEM_PROMPT]"));
                    break;
                case ChatRole.User when version == MistralTemplateVersion.V1:
                    var v1Content = i == firstUser && systemPrompt is not null ? systemPrompt + "\n\n" + message.Content : message.Content;
                    segments.Add(Text("[INST] " + v1Content + " [/INST]"));
                    break;
                case ChatRole.User:
                    if (i == lastUser && tools is { Count: > 0 })
                    {
                        segments.Add(Control("[AVAILABLE_TOOLS]"));
                        segments.Add(Text(ToolsJson(tools)));
                        segments.Add(Control("[/AVAILABLE_TOOLS]"));
                    }

                    segments.Add(Control("[INST]"));
                    segments.Add(Text(i == lastUser && systemPrompt is not null ? systemPrompt + "\n\n" + message.Content : message.Content ?? ""));
                    segments.Add(Control("[/INST]"));
                    break;
                case ChatRole.Assistant:
                    if (!string.IsNullOrEmpty(message.Content))
                    {
                        segments.Add(Text(version == MistralTemplateVersion.V1 ? message.Content : message.Content.TrimEnd(' ')));
                    }

                    if (message.ToolCalls is { Count: > 0 } calls)
                    {
                        segments.Add(Control("[TOOL_CALLS]"));
                        segments.Add(Text(ToolCallsJson(calls)));
                    }

                    segments.Add(Control("</s>"));
                    break;
                case ChatRole.Tool when v7:
                    segments.Add(Control("[TOOL_RESULTS]"));
                    segments.Add(Text(ToolCallIds.ToMistralId(message.ToolCallId!)));
                    segments.Add(Control("[TOOL_CONTENT]"));
                    segments.Add(Text(message.Content ?? ""));
                    segments.Add(Control("[/TOOL_RESULTS]"));
                    break;
                case ChatRole.Tool:
                    segments.Add(Control("[TOOL_RESULTS]"));
                    segments.Add(Text(new PythonJson().Raw("{\"content\": ").JsonOrString(message.Content)
                        .Raw(", \"call_id\": ").String(ToolCallIds.ToMistralId(message.ToolCallId!)).Raw("}").ToString()));
                    segments.Add(Control("[/TOOL_RESULTS]"));
                    break;
            }
        }

        if (forceToolCall)
        {
            segments.Add(Control("[TOOL_CALLS]"));
            if (forcedFunction is not null)
            {
                segments.Add(Text(new PythonJson().Raw("[{\"name\": ").String(forcedFunction).Raw(", \"arguments\": ").ToString()));
            }
        }

        return new ChatPrompt(segments, version, forceToolCall);
    }

    /// <summary>The text the tool-call parser must see before the model's output when the prompt opened the call.</summary>
    public static string ToolCallPrefill(string? forcedFunction) =>
        forcedFunction is null ? "" : new PythonJson().Raw("[{\"name\": ").String(forcedFunction).Raw(", \"arguments\": ").ToString();

    /// <summary>[{"type": "function", "function": {"name": …, "description": …, "parameters": …}}, …] as mistral-common dumps Tool models.</summary>
    internal static string ToolsJson(IReadOnlyList<ToolDefinition> tools)
    {
        var json = new PythonJson().Raw("[");
        for (var i = 0; i < tools.Count; i++)
        {
            if (i > 0)
            {
                json.Raw(", ");
            }

            json.Raw("{\"type\": \"function\", \"function\": {\"name\": ").String(tools[i].Name)
                .Raw(", \"description\": ").String(tools[i].Description ?? "")
                .Raw(", \"parameters\": ").JsonOrString(tools[i].ParametersJson ?? "{}").Raw("}}");
        }

        return json.Raw("]").ToString();
    }

    /// <summary>[{"name": …, "arguments": {…}, "id": "…"}, …] as mistral-common's v3 tokenizer writes assistant tool calls.</summary>
    internal static string ToolCallsJson(IReadOnlyList<ChatToolCall> calls)
    {
        var json = new PythonJson().Raw("[");
        for (var i = 0; i < calls.Count; i++)
        {
            if (i > 0)
            {
                json.Raw(", ");
            }

            json.Raw("{\"name\": ").String(calls[i].Name).Raw(", \"arguments\": ").JsonOrString(calls[i].Arguments)
                .Raw(", \"id\": ").String(ToolCallIds.ToMistralId(calls[i].Id)).Raw("}");
        }

        return json.Raw("]").ToString();
    }

    /// <summary>
    /// Checks the conversation against what the format can express and merges consecutive user messages
    /// (mistral-common joins them with a blank line). For v1/v3/Tekken the leading system message is taken out
    /// and returned as <paramref name="systemPrompt"/>.
    /// </summary>
    private static List<ChatMessage> Normalize(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ToolDefinition>? tools, MistralTemplateVersion version, out string? systemPrompt)
    {
        var v7 = version is MistralTemplateVersion.V7 or MistralTemplateVersion.V7Tekken;
        systemPrompt = null;
        if (messages.Count == 0)
        {
            throw Invalid("messages must contain at least one message");
        }

        if (version == MistralTemplateVersion.V1 && tools is { Count: > 0 })
        {
            throw EngineException.Invalid("tools", "this model's chat format (Mistral v1) has no tool calling");
        }

        var result = new List<ChatMessage>();
        HashSet<string>? openCalls = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Content is not null && m.Content.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"messages[{i}].content contains a NUL character");
            }

            var previous = result.Count > 0 ? result[^1] : null;
            switch (m.Role)
            {
                case ChatRole.System when v7:
                    result.Add(m);
                    break;
                case ChatRole.System:
                    if (i != 0)
                    {
                        throw Invalid($"messages[{i}] is a system message; this model's chat format (Mistral {version}) allows one system message, and only as the first message");
                    }

                    systemPrompt = m.Content ?? "";
                    break;
                case ChatRole.User:
                    if (m.Content is null)
                    {
                        throw Invalid($"messages[{i}] is a user message without content");
                    }

                    if (previous is { Role: ChatRole.User })
                    {
                        result[^1] = previous with { Content = previous.Content + "\n\n" + m.Content };
                    }
                    else
                    {
                        result.Add(m);
                    }

                    openCalls = null;
                    break;
                case ChatRole.Assistant:
                    if (previous is null || previous.Role == ChatRole.System)
                    {
                        throw Invalid($"messages[{i}] is an assistant message, but the conversation must start with a user message (after an optional system message)");
                    }

                    if (previous.Role == ChatRole.Assistant)
                    {
                        throw Invalid($"messages[{i}] follows another assistant message; assistant and user turns must alternate");
                    }

                    var hasCalls = m.ToolCalls is { Count: > 0 };
                    var hasContent = !string.IsNullOrEmpty(m.Content);
                    if (!hasCalls && !hasContent)
                    {
                        throw Invalid($"messages[{i}] is an assistant message with neither content nor tool calls");
                    }

                    if (hasCalls && hasContent && !v7)
                    {
                        throw Invalid($"messages[{i}] has both content and tool calls, which this model's chat format (Mistral {version}) cannot express");
                    }

                    if (hasCalls && version == MistralTemplateVersion.V1)
                    {
                        throw Invalid($"messages[{i}] has tool calls, but this model's chat format (Mistral v1) has no tool calling");
                    }

                    openCalls = hasCalls ? [.. m.ToolCalls!.Select(c => ToolCallIds.ToMistralId(c.Id))] : null;
                    result.Add(m with { Content = hasContent ? m.Content : null });
                    break;
                case ChatRole.Tool:
                    if (openCalls is null)
                    {
                        throw Invalid($"messages[{i}] is a tool message, but it does not follow an assistant message with tool calls");
                    }

                    if (string.IsNullOrEmpty(m.ToolCallId))
                    {
                        throw Invalid($"messages[{i}] is a tool message without tool_call_id");
                    }

                    if (!openCalls.Contains(ToolCallIds.ToMistralId(m.ToolCallId)))
                    {
                        throw Invalid($"messages[{i}].tool_call_id '{m.ToolCallId}' answers no tool call of the preceding assistant message");
                    }

                    result.Add(m);
                    break;
            }
        }

        var firstTurn = result.FirstOrDefault(m => m.Role != ChatRole.System);
        if (firstTurn is null)
        {
            throw Invalid("messages must contain a user message");
        }

        if (result[^1].Role is not (ChatRole.User or ChatRole.Tool))
        {
            throw Invalid($"the last message must be a user or tool message (it is {result[^1].Role.ToString().ToLowerInvariant()})");
        }

        return result;
    }

    private static EngineException Invalid(string reason) => EngineException.Invalid("messages", reason);

    private static PromptSegment Control(string text) => new(text, true);

    private static PromptSegment Text(string text) => new(text, false);
}
