namespace SovereignInference.Engine.Scheduling;

/// <summary>Knobs of one model's scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Requests that may wait for a slot; past it, callers get Overloaded at once.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Most prompt tokens fed per step across all prefilling sequences (chunked prefill).</summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>Retry hint given with Overloaded.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
}
