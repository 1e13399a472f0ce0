using SovereignInference.Engine.Admission;

using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Chat;

/// <summary>A message after normalization: content joined to one string, tool-call arguments re-serialized.</summary>
internal sealed record NormalizedMessage(ChatRole Role, string Content)
{
    public IReadOnlyList<ChatToolCall> ToolCalls { get; init; } = [];

    public string? ToolCallId { get; init; }

    public string? Name { get; init; }

    public string? Reasoning { get; init; }

    /// <summary>A system message's content as chunks, when it holds thinking chunks (v13 and later); else null and <see cref="Content"/> is the text.</summary>
    public IReadOnlyList<ChatPart>? Chunks { get; init; }
}

/// <summary>A conversation ready to encode: its messages, the system prompt of formats before v7, and whether the reply continues the last (assistant) message.</summary>
internal sealed record NormalizedConversation(List<NormalizedMessage> Messages, string? SystemPrompt, bool ContinueFinal);

/// <summary>
/// mistral-common's validator (serving mode) and request normalizer (InstructRequestNormalizer, V7, V13, V15) for
/// one conversation: system messages joined with "\n\n" into the system prompt before v7 (empty ones skipped),
/// consecutive messages of one role merged (empty content skipped, parts joined with "\n\n", v15 without a
/// separator inside a message), tool-call arguments re-serialized as Python's json.dumps(json.loads(…)) (empty:
/// {}), tool results re-serialized before v7 and put in call order from v13, an empty user message put first
/// before v7 when the conversation does not start with a user, and a final assistant message continued.
/// </summary>
internal static class MistralNormalizer
{
    /// <param name="messages">The conversation.</param>
    /// <param name="version">The format.</param>
    /// <param name="continueFinal">A final assistant message is continued by the reply (prefill); false ends it with &lt;/s&gt; like any other turn.</param>
    public static NormalizedConversation Normalize(IReadOnlyList<ChatMessage> messages, MistralTemplateVersion version, bool continueFinal = true)
    {
        Validate(messages, version);
        var v7 = version >= MistralTemplateVersion.V7;
        var chunkJoin = version == MistralTemplateVersion.V15 ? "" : "\n\n";
        var calls = new CallLedger();
        var result = new List<NormalizedMessage>();
        foreach (var group in RoleRuns(messages))
        {
            switch (group[0].Role)
            {
                case ChatRole.System when v7:
                    result.AddRange(group.Select(m => new NormalizedMessage(ChatRole.System, Aggregate([m], chunkJoin))
                    {
                        Chunks = m.Parts?.Any(p => p.IsThinking) == true ? Chunks(m.Parts, chunkJoin) : null,
                    }));
                    break;
                case ChatRole.System:
                    break; // before v7 system messages become the system prompt (SystemPrompt)
                case ChatRole.User:
                    result.Add(new NormalizedMessage(ChatRole.User, Aggregate(group, chunkJoin)));
                    break;
                case ChatRole.Assistant:
                    result.Add(AssistantTurn(group, chunkJoin, calls));
                    break;
                case ChatRole.Tool:
                    result.AddRange(ToolResults(group, version, chunkJoin, calls));
                    break;
            }
        }

        if (result.Count == 0 || (!v7 && result[0].Role != ChatRole.User))
        {
            result.Insert(0, new NormalizedMessage(ChatRole.User, ""));
        }

        return new NormalizedConversation(result, v7 ? null : SystemPrompt(messages, chunkJoin), continueFinal && result[^1].Role == ChatRole.Assistant);
    }

    /// <summary>Before v7: the non-empty system messages joined with "\n\n", or null.</summary>
    private static string? SystemPrompt(IReadOnlyList<ChatMessage> messages, string chunkJoin)
    {
        var prompts = messages.Where(m => m.Role == ChatRole.System).Select(m => Aggregate([m], chunkJoin)).Where(t => t.Length > 0).ToList();
        return prompts.Count > 0 ? string.Join("\n\n", prompts) : null;
    }

    /// <summary>The conversation cut into runs of consecutive messages of one role.</summary>
    private static IEnumerable<List<ChatMessage>> RoleRuns(IReadOnlyList<ChatMessage> messages)
    {
        for (var start = 0; start < messages.Count;)
        {
            var end = start;
            while (end < messages.Count && messages[end].Role == messages[start].Role)
            {
                end++;
            }

            yield return messages.Skip(start).Take(end - start).ToList();
            start = end;
        }
    }

    /// <summary>A run of assistant messages as one turn: content and reasoning joined, tool-call arguments re-serialized.</summary>
    private static NormalizedMessage AssistantTurn(List<ChatMessage> group, string chunkJoin, CallLedger ledger)
    {
        var calls = group.SelectMany(m => m.ToolCalls ?? []).Select(c => c with { Arguments = NormalizeJson(c.Arguments) }).ToList();
        var reasoning = string.Join("\n\n", group.Select(m => m.Reasoning).Where(r => !string.IsNullOrEmpty(r)));
        ledger.Record(calls);
        return new NormalizedMessage(ChatRole.Assistant, Aggregate(group, chunkJoin))
        {
            ToolCalls = calls,
            Reasoning = reasoning.Length > 0 ? reasoning : null,
        };
    }

    /// <summary>
    /// A run of tool results: named after their call when they carry no name, re-serialized before v7, and from v13 in
    /// the order of the calls they answer.
    /// </summary>
    private static List<NormalizedMessage> ToolResults(List<ChatMessage> group, MistralTemplateVersion version, string chunkJoin, CallLedger ledger)
    {
        var v7 = version >= MistralTemplateVersion.V7;
        var results = group.Select((m, i) =>
        {
            var content = Aggregate([m], chunkJoin);
            return (Order: i, Message: new NormalizedMessage(ChatRole.Tool, v7 ? content : NormalizeJson(content))
            {
                ToolCallId = m.ToolCallId,
                Name = m.Name ?? ledger.NameOf(m.ToolCallId),
            });
        }).ToList();
        if (version >= MistralTemplateVersion.V13)
        {
            results = [.. results.OrderBy(r => ledger.PositionOf(r.Message.ToolCallId)).ThenBy(r => r.Order)];
        }

        ledger.AnswerLatest();
        return [.. results.Select(r => r.Message)];
    }

    /// <summary>mistral-common's _normalize_json_content: empty → {}, JSON → json.dumps(json.loads(text)), anything else unchanged.</summary>
    internal static string NormalizeJson(string? text) =>
        string.IsNullOrEmpty(text) ? "{}" : PythonJson.Normalize(text) ?? text;

    /// <summary>
    /// _aggregate_content_chunks_impl for one message with thinking chunks: adjacent non-empty text parts coalesced
    /// (joined with <paramref name="chunkJoin"/>), each thinking chunk kept where it stands.
    /// </summary>
    private static List<ChatPart> Chunks(IReadOnlyList<ChatPart> parts, string chunkJoin)
    {
        var chunks = new List<ChatPart>();
        var text = new System.Text.StringBuilder();
        foreach (var part in parts)
        {
            if (part.IsThinking)
            {
                if (text.Length > 0)
                {
                    chunks.Add(new ChatPart(text.ToString()));
                    text.Clear();
                }

                chunks.Add(part);
            }
            else if (part.Text.Length > 0)
            {
                text.Append(text.Length > 0 ? chunkJoin : "").Append(part.Text);
            }
        }

        if (text.Length > 0)
        {
            chunks.Add(new ChatPart(text.ToString()));
        }

        return chunks;
    }

    /// <summary>
    /// _aggregate_content_chunks: the non-empty text of the messages, parts of one message joined with
    /// <paramref name="chunkJoin"/>, messages with "\n\n".
    /// </summary>
    private static string Aggregate(IEnumerable<ChatMessage> messages, string chunkJoin)
    {
        var text = new System.Text.StringBuilder();
        var any = false;
        foreach (var message in messages)
        {
            var newMessage = true;
            foreach (var part in message.Parts ?? (message.Content is null ? [] : [new ChatPart(message.Content)]))
            {
                if (part.Text.Length == 0 || part.IsThinking)
                {
                    continue;
                }

                if (any)
                {
                    text.Append(newMessage ? "\n\n" : chunkJoin);
                }

                text.Append(part.Text);
                any = true;
                newMessage = false;
            }
        }

        return text.ToString();
    }

    /// <summary>The checks of mistral-common's validator in serving mode, with messages naming the index.</summary>
    private static void Validate(IReadOnlyList<ChatMessage> messages, MistralTemplateVersion version)
    {
        if (messages.Count == 0)
        {
            throw Invalid("messages must contain at least one message");
        }

        if (messages.Count == 1 && messages[0].Role is not (ChatRole.User or ChatRole.System))
        {
            throw Invalid($"a conversation of one message must be a user or system message (it is {Name(messages[0].Role)})");
        }

        var pending = new PendingCalls();
        ChatRole? previous = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (InputChecks.ContainsNul(m.Content) || (m.Parts?.Any(p => InputChecks.ContainsNul(p.Text)) ?? false))
            {
                throw Invalid($"messages[{i}].content contains a NUL character");
            }

            if (m.Parts?.Any(p => p.IsThinking) == true && (m.Role != ChatRole.System || version < MistralTemplateVersion.V13))
            {
                throw Invalid(m.Role == ChatRole.System
                    ? $"messages[{i}] has a thinking content part, but this model's chat format (Mistral {version}) has no [THINK] (v13 and later have)"
                    : $"messages[{i}] has a thinking content part, which only system messages take (an assistant's thinking goes in reasoning_content)");
            }

            switch (m.Role)
            {
                case ChatRole.User when m.Content is null && m.Parts is null:
                    throw Invalid($"messages[{i}] is a user message without content");
                case ChatRole.User or ChatRole.System:
                    pending.Open = null;
                    break;
                case ChatRole.Assistant:
                    CheckAssistant(m, i, isLast: i == messages.Count - 1, version, pending);
                    break;
                case ChatRole.Tool:
                    CheckToolResult(m, i, previous, version, pending);
                    break;
            }

            previous = m.Role;
        }

        if (pending.Expected != 0 && messages[^1].Role != ChatRole.Assistant)
        {
            throw Invalid("the last assistant message's tool calls did not get one tool result each");
        }

        if (messages.Count > 1 && messages[^1].Role == ChatRole.System)
        {
            throw Invalid("the last message must be a user, tool or assistant message (it is system)");
        }
    }

    /// <summary>An assistant message comes after every earlier call got its result, says something, and fits the format.</summary>
    private static void CheckAssistant(ChatMessage m, int i, bool isLast, MistralTemplateVersion version, PendingCalls pending)
    {
        if (pending.Expected != 0)
        {
            throw Invalid($"messages[{i}] is an assistant message, but the tool calls before it did not get one tool result each");
        }

        var hasCalls = m.ToolCalls is { Count: > 0 };
        var hasContent = !string.IsNullOrEmpty(m.Content) || (m.Parts?.Any(p => p.Text.Length > 0 && !p.IsThinking) ?? false);
        if (!hasCalls && !hasContent && string.IsNullOrEmpty(m.Reasoning) && !isLast)
        {
            throw Invalid($"messages[{i}] is an assistant message with neither content nor tool calls");
        }

        if (hasCalls && version == MistralTemplateVersion.V1)
        {
            throw Invalid($"messages[{i}] has tool calls, but this model's chat format (Mistral v1) has no tool calling");
        }

        if (hasCalls && hasContent && version < MistralTemplateVersion.V7)
        {
            throw Invalid($"messages[{i}] has both content and tool calls, which this model's chat format (Mistral {version}) cannot express");
        }

        pending.Open = hasCalls ? [.. m.ToolCalls!.Select(c => ToolCallIds.ToMistralId(c.Id ?? ""))] : null;
        pending.Expected = hasCalls ? m.ToolCalls!.Count : 0;
    }

    /// <summary>A tool result follows the assistant's calls (or other results) and answers one of them.</summary>
    private static void CheckToolResult(ChatMessage m, int i, ChatRole? previous, MistralTemplateVersion version, PendingCalls pending)
    {
        if (pending.Open is null || previous is not (ChatRole.Assistant or ChatRole.Tool))
        {
            throw Invalid($"messages[{i}] is a tool message, but it does not follow an assistant message with tool calls");
        }

        // v2 names results by function, not by call id.
        if (!(version == MistralTemplateVersion.V2 && string.IsNullOrEmpty(m.ToolCallId)))
        {
            if (string.IsNullOrEmpty(m.ToolCallId))
            {
                throw Invalid($"messages[{i}] is a tool message without tool_call_id");
            }

            if (!pending.Open.Contains(ToolCallIds.ToMistralId(m.ToolCallId)))
            {
                throw Invalid($"messages[{i}].tool_call_id '{m.ToolCallId}' answers no tool call of the preceding assistant message");
            }
        }

        pending.Expected--;
    }

    private static string Name(ChatRole role) => role.ToString().ToLowerInvariant();

    private static EngineException Invalid(string reason) => EngineException.Invalid("messages", reason);

    /// <summary>Validation state: the call ids of the last assistant message still open and how many results they wait for.</summary>
    private sealed class PendingCalls
    {
        public HashSet<string>? Open { get; set; }

        public int Expected { get; set; }
    }

    /// <summary>Normalization state: the latest assistant turn's call ids in order, and every call's function name by id.</summary>
    private sealed class CallLedger
    {
        private readonly List<string> _latest = [];
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

        public void Record(IEnumerable<ChatToolCall> calls)
        {
            foreach (var call in calls)
            {
                var id = ToolCallIds.ToMistralId(call.Id);
                _latest.Add(id);
                _names[id] = call.Name;
            }
        }

        public string? NameOf(string? toolCallId) => _names.GetValueOrDefault(ToolCallIds.ToMistralId(toolCallId ?? ""));

        /// <summary>Where the call a result answers stands among the latest calls (results of unknown calls go last).</summary>
        public int PositionOf(string? toolCallId) =>
            _latest.IndexOf(ToolCallIds.ToMistralId(toolCallId ?? "")) is var k and >= 0 ? k : int.MaxValue;

        /// <summary>The latest calls are answered: a later run of results belongs to a later turn.</summary>
        public void AnswerLatest() => _latest.Clear();
    }
}
