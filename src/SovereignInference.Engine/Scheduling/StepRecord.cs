namespace SovereignInference.Engine.Scheduling;

/// <summary>What one scheduler step did: one decode call with this many tokens of each kind.</summary>
public readonly record struct StepRecord(long Step, int DecodeSequences, int PrefillTokens, int PrefillSequences, int ActiveSequences, TimeSpan Elapsed);
