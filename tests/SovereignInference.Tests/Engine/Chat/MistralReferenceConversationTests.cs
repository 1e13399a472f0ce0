using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Chat;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// The conversations of mistral-common's own tests (vendored in Chat/Reference/conversations.json, Apache-2.0,
/// see NOTICE.md) rendered byte-exactly as the reference renders them, for every tokenizer version.
/// </summary>
public sealed class MistralReferenceConversationTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "conversations.json")));
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_the_reference_conversation_exactly(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "conversations.json")));
        var c = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var version = Enum.Parse<MistralTemplateVersion>(c.GetProperty("version").GetString()!);
        var messages = c.GetProperty("messages").EnumerateArray().Select(Message).ToArray();
        var tools = c.TryGetProperty("tools", out var t)
            ? t.EnumerateArray().Select(x => new ToolDefinition(x.GetProperty("name").GetString()!, x.GetProperty("description").GetString(), x.GetProperty("parameters").GetRawText())).ToArray()
            : null;
        var effort = c.TryGetProperty("reasoning_effort", out var e) ? e.GetString() : null;
        var endTurn = c.TryGetProperty("end_turn", out var end) && end.GetBoolean();

        var prompt = MistralChatFormatter.Format(messages, tools, version, reasoningEffort: effort, continueFinal: !endTurn);
        var rendered = AsReferenceText(prompt);

        Assert.Equal(c.GetProperty("expected").GetString(), rendered);

        if (!MistralChatFormatter.IsSentencePiece(version))
        {
            Assert.Equal(rendered, prompt.Text);
        }
    }

    /// <summary>The prompt as mistral-common's tests write it: SentencePiece text pieces with "▁" for spaces and byte tokens for newlines.</summary>
    internal static string AsReferenceText(ChatPrompt prompt)
    {
        var spm = prompt.Version is { } v && MistralChatFormatter.IsSentencePiece(v);
        var text = new StringBuilder();
        foreach (var segment in prompt.Segments)
        {
            if (segment.IsControl || !spm)
            {
                text.Append(segment.Text);
            }
            else if (segment.Text.Length > 0)
            {
                text.Append('▁').Append(segment.Text.Replace(" ", "▁", StringComparison.Ordinal).Replace("\n", "<0x0A>", StringComparison.Ordinal));
            }
        }

        return text.ToString();
    }

    private static ChatMessage Message(JsonElement m)
    {
        var role = Enum.Parse<ChatRole>(m.GetProperty("role").GetString()!, ignoreCase: true);
        var content = m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        ChatPart[]? parts = null;
        if (c.ValueKind == JsonValueKind.Array)
        {
            // Content chunks: {"type": "text", "text"} or {"type": "thinking", "thinking"}.
            parts = [.. c.EnumerateArray().Select(p => p.GetProperty("type").GetString() == "thinking"
                ? new ChatPart(p.GetProperty("thinking").GetString()!, IsThinking: true)
                : new ChatPart(p.GetProperty("text").GetString()!))];
            content = string.Join("\n", parts.Where(p => !p.IsThinking).Select(p => p.Text));
        }

        return new ChatMessage(role, content)
        {
            Parts = parts,
            ToolCalls = m.TryGetProperty("tool_calls", out var calls)
                ? [.. calls.EnumerateArray().Select(x => new ChatToolCall(x.GetProperty("id").GetString()!, x.GetProperty("name").GetString()!, x.GetProperty("arguments").GetString()!))]
                : null,
            ToolCallId = m.TryGetProperty("tool_call_id", out var id) ? id.GetString() : null,
            Name = m.TryGetProperty("name", out var n) ? n.GetString() : null,
            Reasoning = m.TryGetProperty("reasoning", out var r) ? r.GetString() : null,
        };
    }
}
