using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// Ends every call that failed in the engine with the status <see cref="GrpcStatusMapping"/> gives it, and a
/// request stream's undecodable message with INVALID_ARGUMENT (not protobuf) or INTERNAL (not decompressible).
/// Single-message requests are checked earlier, by <see cref="GrpcMessageGuard"/>.
/// </summary>
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

    /// <summary>Request streams (reflection) read each message inside the handler: a bad one is the client's fault (<see cref="ClientMessages{T}"/>).</summary>
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(new ClientMessages<TRequest>(requestStream, context, logger), responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(new ClientMessages<TRequest>(requestStream, context, logger), context);
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
                if (engine.Code == EngineErrorCode.ModelNotFound && context.GetHttpContext() is { } http)
                {
                    RequestMetrics.CountRefusal(http, RefusalReason.ModelNotFound);
                }

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

    [LoggerMessage(EventId = ServerEventIds.GrpcRejected, Level = LogLevel.Information, Message = "gRPC {Method} rejected: {Status} {Detail}")]
    internal static partial void LogRejected(ILogger logger, string method, StatusCode status, string detail);

    [LoggerMessage(EventId = ServerEventIds.GrpcEndedEarly, Level = LogLevel.Debug, Message = "gRPC {Method} ended early: {Status}")]
    private static partial void LogCancelled(ILogger logger, string method, StatusCode status);

    [LoggerMessage(EventId = ServerEventIds.GrpcBackendFailure, Level = LogLevel.Error, Message = "gRPC {Method} failed in the backend: {Detail}")]
    private static partial void LogBackendFailure(ILogger logger, string method, string detail);
}

/// <summary>
/// A request stream whose read failures are the client's: a message that is not protobuf (or has invalid UTF-8 in a
/// string field) is INVALID_ARGUMENT, a stream that ends inside a frame ("Incomplete message.") is INVALID_ARGUMENT,
/// data that does not decompress is INTERNAL (the gRPC spec's status for it). All logged at Information.
/// </summary>
internal sealed class ClientMessages<T>(IAsyncStreamReader<T> inner, ServerCallContext context, ILogger logger) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        try
        {
            return await inner.MoveNext(cancellationToken);
        }
        catch (Exception ex) when (ClientFault(ex) is { } status)
        {
            EngineErrorInterceptor.LogRejected(logger, context.Method, status.StatusCode, status.Detail);
            throw new RpcException(status);
        }
    }

    private static Status? ClientFault(Exception ex) => ex switch
    {
        InvalidProtocolBufferException or DecoderFallbackException => new Status(StatusCode.InvalidArgument, $"A request message is not valid protobuf: {ex.Message}"),
        RpcException { StatusCode: StatusCode.Internal } rpc when rpc.Status.Detail.StartsWith("Incomplete message", StringComparison.Ordinal) =>
            new Status(StatusCode.InvalidArgument, "Incomplete message: the request stream ends inside a message frame"),
        InvalidDataException => new Status(StatusCode.Internal, "A request message could not be decompressed"),
        _ => null,
    };
}
