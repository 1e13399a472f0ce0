namespace SovereignInference.Engine.Output;

/// <summary>What <see cref="StopMatcher.Push(string)"/> lets through.</summary>
/// <param name="Emit">Text safe to send to the client now (never part of a stop string).</param>
/// <param name="Stopped">True when a stop string was found; generation should end after sending <paramref name="Emit"/>.</param>
/// <param name="MatchedStop">The stop string that was found, when <paramref name="Stopped"/>.</param>
public readonly record struct StopMatchResult(string Emit, bool Stopped, string? MatchedStop);
