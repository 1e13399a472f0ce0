using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Output;

/// <summary>How an assistant reply ended, and the whole reply, as the last <see cref="ChatDelta"/> carries it.</summary>
public sealed record ChatEnd
{
    /// <summary>Why the reply ended in chat terms: length wins, then tool calls, else stop.</summary>
    public required ChatFinish Reason { get; init; }

    /// <summary>The engine's finish reason (stop covers end-of-generation and stop strings).</summary>
    public required FinishReason Finish { get; init; }

    /// <summary>The stop string that ended the reply, if any.</summary>
    public string? MatchedStop { get; init; }

    /// <summary>Token counts.</summary>
    public UsageInfo? Usage { get; init; }

    /// <summary>Latency breakdown.</summary>
    public GenerationTimings? Timings { get; init; }

    /// <summary>The reply's whole answer text.</summary>
    public required string Content { get; init; }

    /// <summary>The reply's whole thinking (empty when the model did not think).</summary>
    public required string Reasoning { get; init; }

    /// <summary>The reply is tool calls: at least one call was begun (max_tokens may have cut it short).</summary>
    public required bool HasToolCalls { get; init; }

    /// <summary>The complete tool calls; empty when the reply is text.</summary>
    public required IReadOnlyList<ChatToolCall> ToolCalls { get; init; }
}
