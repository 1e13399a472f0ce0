using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Renders a conversation the way mistral-common does for each tokenizer version: its validator's checks, its
/// request normalizer (<see cref="MistralNormalizer"/>), then its instruct tokenizer's encoding
/// (InstructTokenizerV1 … V15). Conversations it cannot express throw <see cref="EngineException"/>
/// InvalidArgument naming "messages" (or "tools") and the reason.
/// </summary>
public static class MistralChatFormatter
{
    /// <param name="messages">The conversation; it ends with a user or tool message, or with an assistant message the reply continues (prefill).</param>
    /// <param name="tools">Functions the model may call, or null.</param>
    /// <param name="version">The model's format.</param>
    /// <param name="forceToolCall">Open the answer with [TOOL_CALLS] (tool_choice "required" or a named function).</param>
    /// <param name="forcedFunction">With <paramref name="forceToolCall"/>: also write the call's name, leaving the model the arguments.</param>
    /// <param name="reasoningEffort">v15 [MODEL_SETTINGS] reasoning_effort ("none" or "high"), or null for none.</param>
    /// <param name="continueFinal">A final assistant message is continued by the reply (prefill); false ends it like any turn (mistral-common without continue_final_message).</param>
    public static ChatPrompt Format(
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<ToolDefinition>? tools,
        MistralTemplateVersion version,
        bool forceToolCall = false,
        string? forcedFunction = null,
        string? reasoningEffort = null,
        bool continueFinal = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (version == MistralTemplateVersion.V1 && tools is { Count: > 0 })
        {
            throw EngineException.Invalid("tools", "this model's chat format (Mistral v1) has no tool calling");
        }

        var request = MistralNormalizer.Normalize(messages, version, continueFinal);
        if (forceToolCall && request.ContinueFinal)
        {
            throw Invalid("a conversation that ends with an assistant message (continued by the reply) cannot also force a tool call");
        }

        var segments = new List<PromptSegment> { Control("<s>") };
        var conversation = request.Messages;
        var firstUser = conversation.FindIndex(m => m.Role == ChatRole.User);
        var lastUser = conversation.FindLastIndex(m => m.Role == ChatRole.User);
        for (var i = 0; i < conversation.Count; i++)
        {
            var message = conversation[i];
            var beforeLastUser = i < lastUser;
            switch (message.Role)
            {
                case ChatRole.System:
                    segments.Add(Control("[SYSTEM_PROMPT]"));
                    foreach (var chunk in message.Chunks ?? [new ChatPart(message.Content)])
                    {
                        if (chunk.IsThinking)
                        {
                            segments.Add(Control("[THINK]"));
                            segments.Add(Text(chunk.Text));
                            segments.Add(Control("[/THINK]"));
                        }
                        else
                        {
                            segments.Add(Text(chunk.Text));
                        }
                    }

                    segments.Add(Control("[/SYSTEM_PROMPT]"));
                    break;
                case ChatRole.User:
                    User(segments, message, version, tools, i == firstUser, i == lastUser, request.SystemPrompt, reasoningEffort);
                    break;
                case ChatRole.Assistant:
                    var continued = request.ContinueFinal && i == conversation.Count - 1;
                    Assistant(segments, message, version, beforeLastUser, continued);
                    break;
                case ChatRole.Tool:
                    Tool(segments, message, version, beforeLastUser);
                    break;
            }
        }

        if (forceToolCall)
        {
            segments.Add(Control("[TOOL_CALLS]"));
            if (forcedFunction is not null)
            {
                if (UsesArgsToken(version))
                {
                    segments.Add(Text(forcedFunction));
                    segments.Add(Control("[ARGS]"));
                }
                else
                {
                    segments.Add(Text(ToolCallPrefill(forcedFunction)));
                }
            }
        }

        return new ChatPrompt(segments, version, forceToolCall);
    }

    /// <summary>Whether the version's vocabulary is SentencePiece (every text segment starts with "▁").</summary>
    public static bool IsSentencePiece(MistralTemplateVersion version) =>
        version is MistralTemplateVersion.V1 or MistralTemplateVersion.V2 or MistralTemplateVersion.V3 or MistralTemplateVersion.V7;

    /// <summary>Whether tool calls are written [TOOL_CALLS]name…[ARGS]{…} (v11 and later) rather than a JSON list.</summary>
    public static bool UsesArgsToken(MistralTemplateVersion version) => version >= MistralTemplateVersion.V11;

    /// <summary>Whether the format has [THINK] chunks (v13 and later).</summary>
    public static bool HasThinking(MistralTemplateVersion version) => version >= MistralTemplateVersion.V13;

    /// <summary>
    /// The opening of a named call in the JSON-list formats (v2 … v7), up to the colon before its arguments: the
    /// model writes " {…}" itself, with the space SentencePiece models attach to the next word.
    /// </summary>
    public static string ToolCallPrefill(string? forcedFunction) =>
        forcedFunction is null ? "" : new PythonJson().Raw("[{\"name\": ").String(forcedFunction).Raw(", \"arguments\":").ToString();

    private static void User(
        List<PromptSegment> segments,
        NormalizedMessage message,
        MistralTemplateVersion version,
        IReadOnlyList<ToolDefinition>? tools,
        bool isFirst,
        bool isLast,
        string? systemPrompt,
        string? reasoningEffort)
    {
        if (version == MistralTemplateVersion.V1)
        {
            var v1 = isFirst && !string.IsNullOrEmpty(systemPrompt) ? systemPrompt + "\n\n" + message.Content : message.Content;
            segments.Add(Text("[INST] " + v1 + " [/INST]"));
            return;
        }

        // v13 and later put the tools (and v15 its settings) before the first user message, older versions before the last.
        var here = version >= MistralTemplateVersion.V13 ? isFirst : isLast;
        if (here && tools is { Count: > 0 })
        {
            segments.Add(Control("[AVAILABLE_TOOLS]"));
            segments.Add(Text(ToolsJson(tools)));
            segments.Add(Control("[/AVAILABLE_TOOLS]"));
        }

        if (here && version == MistralTemplateVersion.V15 && reasoningEffort is not null)
        {
            segments.Add(Control("[MODEL_SETTINGS]"));
            segments.Add(Text(new PythonJson().Raw("{\"reasoning_effort\": ").String(reasoningEffort).Raw("}").ToString()));
            segments.Add(Control("[/MODEL_SETTINGS]"));
        }

        segments.Add(Control("[INST]"));
        segments.Add(Text(isLast && !string.IsNullOrEmpty(systemPrompt) ? systemPrompt + "\n\n" + message.Content : message.Content));
        segments.Add(Control("[/INST]"));
    }

    private static void Assistant(List<PromptSegment> segments, NormalizedMessage message, MistralTemplateVersion version, bool beforeLastUser, bool continued)
    {
        var calls = message.ToolCalls;
        if (calls.Count > 0 && version == MistralTemplateVersion.V2 && beforeLastUser)
        {
            // v2 drops tool calls (and their results) before the last user message.
            return;
        }

        if (HasThinking(version) && !string.IsNullOrEmpty(message.Reasoning))
        {
            // A content list [think, text]: each chunk encoded as it is, the text not right-stripped.
            segments.Add(Control("[THINK]"));
            segments.Add(Text(message.Reasoning));
            segments.Add(Control("[/THINK]"));
            if (message.Content.Length > 0)
            {
                segments.Add(Text(message.Content));
            }
        }
        else if (message.Content.Length > 0)
        {
            segments.Add(Text(version == MistralTemplateVersion.V1 ? message.Content : message.Content.TrimEnd(' ')));
        }

        if (calls.Count > 0)
        {
            if (UsesArgsToken(version))
            {
                foreach (var call in calls)
                {
                    segments.Add(Control("[TOOL_CALLS]"));
                    segments.Add(Text(call.Name));
                    if (version == MistralTemplateVersion.V11 && HasId(call))
                    {
                        segments.Add(Control("[CALL_ID]"));
                        segments.Add(Text(ToolCallIds.ToMistralId(call.Id)));
                    }

                    segments.Add(Control("[ARGS]"));
                    segments.Add(Text(new PythonJson().JsonOrString(call.Arguments).ToString()));
                }
            }
            else
            {
                segments.Add(Control("[TOOL_CALLS]"));
                segments.Add(Text(ToolCallsJson(calls, withIds: version != MistralTemplateVersion.V2)));
            }
        }

        if (!continued)
        {
            segments.Add(Control("</s>"));
        }
    }

    private static void Tool(List<PromptSegment> segments, NormalizedMessage message, MistralTemplateVersion version, bool beforeLastUser)
    {
        var id = ToolCallIds.ToMistralId(message.ToolCallId ?? "");
        segments.Add(Control("[TOOL_RESULTS]"));
        switch (version)
        {
            case MistralTemplateVersion.V2:
                if (beforeLastUser)
                {
                    segments.RemoveAt(segments.Count - 1);
                    return;
                }

                segments.Add(Text(new PythonJson().Raw("[{\"name\": ").String(message.Name ?? "").Raw(", \"content\": ").JsonOrString(message.Content).Raw("}]").ToString()));
                break;
            case MistralTemplateVersion.V3 or MistralTemplateVersion.V3Tekken:
                segments.Add(Text(new PythonJson().Raw("{\"content\": ").JsonOrString(message.Content).Raw(", \"call_id\": ").String(id).Raw("}").ToString()));
                break;
            case MistralTemplateVersion.V7 or MistralTemplateVersion.V7Tekken or MistralTemplateVersion.V11:
                segments.Add(Text(id));
                segments.Add(Control("[TOOL_CONTENT]"));
                segments.Add(Text(message.Content));
                break;
            default:
                segments.Add(Text(message.Content));
                break;
        }

        segments.Add(Control("[/TOOL_RESULTS]"));
    }

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

    /// <summary>[{"name": …, "arguments": {…}, "id": "…"}, …] as mistral-common's v2/v3/v7 tokenizers write assistant tool calls.</summary>
    internal static string ToolCallsJson(IReadOnlyList<ChatToolCall> calls, bool withIds = true)
    {
        var json = new PythonJson().Raw("[");
        for (var i = 0; i < calls.Count; i++)
        {
            if (i > 0)
            {
                json.Raw(", ");
            }

            json.Raw("{\"name\": ").String(calls[i].Name).Raw(", \"arguments\": ").JsonOrString(calls[i].Arguments);
            if (withIds && HasId(calls[i]))
            {
                json.Raw(", \"id\": ").String(ToolCallIds.ToMistralId(calls[i].Id));
            }

            json.Raw("}");
        }

        return json.Raw("]").ToString();
    }

    /// <summary>mistral-common writes a call's id only when it has one ("null" counts as none).</summary>
    private static bool HasId(ChatToolCall call) => !string.IsNullOrEmpty(call.Id) && call.Id != "null";

    private static EngineException Invalid(string reason) => EngineException.Invalid("messages", reason);

    private static PromptSegment Control(string text) => new(text, true);

    private static PromptSegment Text(string text) => new(text, false);
}
