using System.Diagnostics;

namespace SovereignInference.Bench.Targets;

/// <summary>
/// What the client saw of one request: when it was sent, when each output-carrying event arrived
/// (<see cref="Stopwatch"/> timestamps taken as the read that completed the event returned), the usage the server
/// reported, and the failure if it failed. Filled in by an <see cref="IBenchTarget"/>; turned into statistics by
/// <see cref="Stats.LevelStatistics"/>.
/// </summary>
internal sealed class RequestTrace
{
    private readonly List<TokenEvent> _events = [];

    public RequestTrace(long startTimestamp) => StartTimestamp = startTimestamp;

    /// <summary>Just before the request was written.</summary>
    public long StartTimestamp { get; }

    /// <summary>When the response was complete (or the failure was seen).</summary>
    public long EndTimestamp { get; private set; }

    /// <summary>Events that carried output, in arrival order.</summary>
    public IReadOnlyList<TokenEvent> Events => _events;

    /// <summary>completion_tokens from the server's usage report, when it sent one.</summary>
    public int? UsageCompletionTokens { get; set; }

    /// <summary>prompt_tokens from the server's usage report, when it sent one.</summary>
    public int? UsagePromptTokens { get; set; }

    /// <summary>Set when the request failed: the key it is counted under (e.g. "http 429") and a message.</summary>
    public string? FailureKey { get; private set; }

    public string? FailureMessage { get; private set; }

    /// <summary>Sent a second time after the connection failed before any response (see the HTTP target).</summary>
    public bool Retried { get; set; }

    public bool Succeeded => FailureKey is null && EndTimestamp != 0;

    /// <summary>Output tokens: the usage report when present, else the tokens counted from events.</summary>
    public int OutputTokens => UsageCompletionTokens ?? _events.Sum(e => e.Tokens);

    /// <summary>Records an event that carried <paramref name="tokens"/> output tokens (1 per OpenAI chunk).</summary>
    public void AddEvent(long timestamp, int tokens = 1) => _events.Add(new TokenEvent(timestamp, tokens));

    public void Complete(long timestamp) => EndTimestamp = timestamp;

    public void Fail(long timestamp, BenchFailure failure, string? status, string? message)
    {
        EndTimestamp = timestamp;
        FailureKey = BenchFailureKeys.Key(failure, status);
        FailureMessage = message;
    }

    /// <summary>Time to first token, or null when no output arrived.</summary>
    public TimeSpan? TimeToFirstToken => _events.Count == 0 ? null : Stopwatch.GetElapsedTime(StartTimestamp, _events[0].Timestamp);

    public TimeSpan EndToEnd => Stopwatch.GetElapsedTime(StartTimestamp, EndTimestamp);
}

/// <summary>An output-carrying event: when it arrived and how many tokens it carried.</summary>
internal readonly record struct TokenEvent(long Timestamp, int Tokens);
