namespace SovereignInference.Server.Hosting;

/// <summary>
/// Settings that cannot start the server (a bad option, flag or configuration value). The command line prints its
/// message alone, without a stack trace, and exits with 2.
/// </summary>
public sealed class ConfigurationException(string message) : InvalidOperationException(message);
