using SovereignInference.Engine.Chat;

namespace SovereignInference.Engine.Output;

/// <summary>
/// What one engine update adds to an assistant reply: answer text, thinking, and increments of tool calls (the
/// final update may hand back unparseable tool-call output as text).
/// </summary>
/// <param name="Content">New assistant text (may be empty).</param>
/// <param name="ToolCalls">New tool-call increments, in order (may be empty).</param>
/// <param name="Reasoning">New thinking, the text between [THINK] and [/THINK] (may be empty).</param>
public readonly record struct ChatDelta(string Content, IReadOnlyList<ToolCallDelta> ToolCalls, string Reasoning = "")
{
    /// <summary>Neither text, thinking nor tool-call increments.</summary>
    public bool IsEmpty => Content.Length == 0 && ToolCalls.Count == 0 && Reasoning.Length == 0;
}
