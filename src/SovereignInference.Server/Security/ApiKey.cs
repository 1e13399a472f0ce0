namespace SovereignInference.Server.Security;

/// <summary>A loaded API key: its name, the SHA-256 of the key, its limits (0 = unlimited), and whether it may use the admin routes.</summary>
public sealed record ApiKey(string Name, byte[] Sha256, int RequestsPerMinute, int MaxConcurrentStreams, int TokensPerMinute, int Priority, bool Admin = false);
