namespace SovereignInference.Engine.Scheduling;

/// <summary>What one scheduler step did: one decode call with this many tokens of each kind.</summary>
/// <param name="Elapsed">The whole step: planning, the decode call, sampling and publishing.</param>
/// <param name="DecodeElapsed">The decode call alone.</param>
public readonly record struct StepRecord(long Step, int DecodeSequences, int PrefillTokens, int PrefillSequences, int ActiveSequences, TimeSpan Elapsed, TimeSpan DecodeElapsed);
