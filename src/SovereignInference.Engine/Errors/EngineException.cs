namespace SovereignInference.Engine.Errors;

/// <summary>A failure with a code the transports understand. The message is safe to show a client.</summary>
public sealed class EngineException : Exception
{
    public EngineException(EngineErrorCode code, string message, string? param = null, TimeSpan? retryAfter = null)
        : base(message)
    {
        Code = code;
        Param = param;
        RetryAfter = retryAfter;
    }

    public EngineException()
        : this(EngineErrorCode.BackendFailure, "engine failure")
    {
    }

    public EngineException(string message)
        : this(EngineErrorCode.BackendFailure, message)
    {
    }

    public EngineException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = EngineErrorCode.BackendFailure;
    }

    /// <summary>What went wrong.</summary>
    public EngineErrorCode Code { get; }

    /// <summary>The request field at fault (OpenAI "param"), when there is one.</summary>
    public string? Param { get; }

    /// <summary>How long a client should wait before retrying (for <see cref="EngineErrorCode.Overloaded"/>).</summary>
    public TimeSpan? RetryAfter { get; }

    public static EngineException Invalid(string param, string message) => new(EngineErrorCode.InvalidArgument, message, param);
}
