namespace SovereignInference.Engine.Scheduling;

/// <summary>Knobs of one model's scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Requests that may wait for a slot; past it, callers get Overloaded at once.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Most prompt tokens fed per step across all prefilling sequences (chunked prefill).</summary>
    public int PrefillChunkTokens { get; init; } = 512;

    /// <summary>
    /// With sequences generating, prompt chunks are sized so one step takes at most this many times a decode-only
    /// step (see <see cref="PrefillBudget"/>); 0 = always <see cref="PrefillChunkTokens"/>.
    /// </summary>
    public double MaxStepFactor { get; init; } = 4;

    /// <summary>
    /// Admission weight of a user (API key name) when several wait: admissions per fair-share round.
    /// Null: every user weighs 1.
    /// </summary>
    public Func<string, int>? UserWeight { get; init; }

    /// <summary>Retry hint given with Overloaded.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
}
