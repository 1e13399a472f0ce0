namespace SovereignInference.Engine.Errors;

/// <summary>
/// A setting the operator gave (an engine option, a memory budget, a keep-alive) that the engine cannot use. The
/// command line prints its message alone and exits with 2; any other <see cref="ArgumentException"/> is a defect and
/// keeps its stack trace. It is an <see cref="ArgumentException"/> so that callers validating a request field (e.g. a
/// request's keep_alive) handle it as before.
/// </summary>
public sealed class SettingException(string message, string? paramName = null) : ArgumentException(message, paramName);
