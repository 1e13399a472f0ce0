namespace SovereignInference.Engine.Chat;

/// <summary>
/// What one engine update adds to an assistant reply: plain text, or increments of tool calls (never both from
/// the same update, except that the final update may hand back unparseable tool-call output as text).
/// </summary>
/// <param name="Content">New assistant text (may be empty).</param>
/// <param name="ToolCalls">New tool-call increments, in order (may be empty).</param>
public readonly record struct ChatDelta(string Content, IReadOnlyList<ToolCallDelta> ToolCalls)
{
    /// <summary>Neither text nor tool-call increments.</summary>
    public bool IsEmpty => Content.Length == 0 && ToolCalls.Count == 0;
}
