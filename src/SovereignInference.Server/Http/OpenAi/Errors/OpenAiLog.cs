using SovereignInference.Server.Observability;
namespace SovereignInference.Server.Http.OpenAi.Errors;

/// <summary>Log messages of the OpenAI adapter (event ids 3000-3099).</summary>
internal static partial class OpenAiLog
{
    [LoggerMessage(EventId = ServerEventIds.HttpClientError, Level = LogLevel.Information, Message = "{Path}: client error {Status} ({Param}): {Message}")]
    public static partial void ClientError(ILogger logger, string path, int status, string? param, string message);

    [LoggerMessage(EventId = ServerEventIds.HttpStreamFailed, Level = LogLevel.Warning, Message = "{Path}: generation failed after the stream began: {Message}")]
    public static partial void StreamFailed(ILogger logger, string path, string message);

    [LoggerMessage(EventId = ServerEventIds.HttpClientGone, Level = LogLevel.Debug, Message = "{Path}: client disconnected; generation cancelled")]
    public static partial void ClientGone(ILogger logger, string path);

    [LoggerMessage(EventId = ServerEventIds.HttpUnexpected, Level = LogLevel.Error, Message = "{Path}: unexpected server failure")]
    public static partial void Unexpected(ILogger logger, Exception exception, string path);
}
