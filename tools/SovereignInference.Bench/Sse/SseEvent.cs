namespace SovereignInference.Bench.Sse;

/// <summary>
/// One server-sent event: its type ("message" unless an <c>event:</c> field said otherwise), its data (the
/// <c>data:</c> lines joined with '\n') and the <see cref="System.Diagnostics.Stopwatch"/> timestamp of the read that
/// completed it, i.e. when the client had the whole event.
/// </summary>
internal readonly record struct SseEvent(string Type, string Data, long Timestamp)
{
    /// <summary>The OpenAI end-of-stream marker, <c>data: [DONE]</c>.</summary>
    public bool IsDone => Data == "[DONE]";
}
