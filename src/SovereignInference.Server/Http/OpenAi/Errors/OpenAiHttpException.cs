namespace SovereignInference.Server.Http.OpenAi.Errors;

/// <summary>A transport-level client error the engine never sees: body too large, not JSON, not UTF-8.</summary>
internal sealed class OpenAiHttpException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    public string? Param { get; } = param;

    public string? Code { get; } = code;
}
