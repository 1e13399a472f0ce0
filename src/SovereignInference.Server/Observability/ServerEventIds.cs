namespace SovereignInference.Server.Observability;

/// <summary>
/// Every log event id of the server, in one place (as YARP keeps Utilities/EventIds.cs). Ranges: 3xxx HTTP API,
/// 4xxx gRPC API, 5xxx security, 6xxx audit. The engine's ids (1xxx, 2xxx) are in
/// SovereignInference.Engine.Observability.EngineEventIds; a test checks every id is used once.
/// </summary>
internal static class ServerEventIds
{
    public const int HttpClientError = 3001;
    public const int HttpStreamFailed = 3002;
    public const int HttpClientGone = 3003;
    public const int HttpUnexpected = 3099;
    public const int GrpcRejected = 4001;
    public const int GrpcEndedEarly = 4002;
    public const int GrpcBackendFailure = 4003;
    public const int GrpcMessageRefused = 4004;
    public const int AuthRefused = 5001;
    public const int AuthOff = 5002;
    public const int AuthOn = 5003;
    public const int OriginRefused = 5004;
    public const int AuditWriteFailed = 6001;
    public const int AuditFileExpired = 6002;
}
