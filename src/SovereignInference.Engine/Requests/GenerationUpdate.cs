using SovereignInference.Engine.Sampling;

namespace SovereignInference.Engine.Requests;

/// <summary>
/// One delta of a streaming generation. Every update but the last carries text and/or tokens; the last has
/// <see cref="Finish"/> set together with <see cref="Usage"/> and <see cref="Timings"/>.
/// </summary>
public sealed record GenerationUpdate
{
    /// <summary>New text: whole UTF-8 characters only, never part of a stop string.</summary>
    public string Text { get; init; } = "";

    /// <summary>Tokens sampled since the previous update (their text may still be held back).</summary>
    public IReadOnlyList<GeneratedToken> Tokens { get; init; } = [];

    /// <summary>Set on the final update.</summary>
    public FinishReason? Finish { get; init; }

    /// <summary>The stop string that ended generation, if any.</summary>
    public string? MatchedStop { get; init; }

    /// <summary>Token counts, on the final update.</summary>
    public UsageInfo? Usage { get; init; }

    /// <summary>Latency breakdown, on the final update.</summary>
    public GenerationTimings? Timings { get; init; }
}

/// <summary>A sampled token with its log-probability (and the top alternatives when asked for).</summary>
public readonly record struct GeneratedToken(int Token, float Logprob, TokenLogprob[]? TopLogprobs);

/// <summary>Token accounting of one generation.</summary>
public sealed record UsageInfo(int PromptTokens, int CompletionTokens, int CachedPromptTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>Where the time went: waiting for a slot, until the first token, and decoding after it.</summary>
public sealed record GenerationTimings(TimeSpan QueueWait, TimeSpan TimeToFirstToken, TimeSpan Decode);
