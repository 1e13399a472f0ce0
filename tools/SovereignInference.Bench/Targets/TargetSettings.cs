namespace SovereignInference.Bench.Targets;

/// <summary>What every request of a run shares, whatever the transport. <see cref="Stream"/> applies to HTTP only (gRPC Generate always streams).</summary>
internal sealed record TargetSettings(string Model, string? ApiKey, bool Stream, bool IgnoreEos, long? Seed, TimeSpan Timeout);
