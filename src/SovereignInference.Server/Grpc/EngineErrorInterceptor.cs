using Grpc.Core;
using Grpc.Core.Interceptors;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Server.Grpc;

/// <summary>Ends every call that failed in the engine with the status <see cref="GrpcStatusMapping"/> gives it.</summary>
internal sealed partial class EngineErrorInterceptor(ILogger<EngineErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    private RpcException? Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case EngineException engine:
                var rpc = GrpcStatusMapping.ToRpcException(engine);
                if (engine.Code == EngineErrorCode.BackendFailure)
                {
                    LogBackendFailure(logger, context.Method, engine.Message);
                }
                else
                {
                    LogRejected(logger, context.Method, rpc.StatusCode, rpc.Status.Detail);
                }

                return rpc;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                var cancelled = GrpcStatusMapping.Cancelled(context);
                LogCancelled(logger, context.Method, cancelled.StatusCode);
                return cancelled;
            default:
                return null;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "gRPC {Method} rejected: {Status} {Detail}")]
    private static partial void LogRejected(ILogger logger, string method, StatusCode status, string detail);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "gRPC {Method} ended early: {Status}")]
    private static partial void LogCancelled(ILogger logger, string method, StatusCode status);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "gRPC {Method} failed in the backend: {Detail}")]
    private static partial void LogBackendFailure(ILogger logger, string method, string detail);
}
