using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Output;

/// <summary>
/// What one engine update adds to an assistant reply: answer text, thinking, and increments of tool calls (the
/// final update may hand back unparseable tool-call output as text), with the tokens behind it. The last delta of a
/// reply carries <see cref="End"/>.
/// </summary>
/// <param name="Content">New assistant text (may be empty).</param>
/// <param name="ToolCalls">New tool-call increments, in order (may be empty).</param>
/// <param name="Reasoning">New thinking, the text between [THINK] and [/THINK] (may be empty).</param>
public sealed record ChatDelta(string Content, IReadOnlyList<ToolCallDelta> ToolCalls, string Reasoning = "")
{
    /// <summary>Neither text, thinking nor tool-call increments.</summary>
    public bool IsEmpty => Content.Length == 0 && ToolCalls.Count == 0 && Reasoning.Length == 0;

    /// <summary>Tokens sampled for this delta, with their logprobs when asked for (their text may still be held back).</summary>
    public IReadOnlyList<GeneratedToken> Tokens { get; init; } = [];

    /// <summary>The prompt's length in tokens, the same on every delta (what a transport reports before the reply ends).</summary>
    public int PromptTokens { get; init; }

    /// <summary>Set on the last delta: why the reply ended, and the whole reply.</summary>
    public ChatEnd? End { get; init; }
}
