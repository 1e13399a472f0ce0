using Grpc.Core;
using Grpc.Health.V1;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// grpc.health.v1.Health, read live from the engine: "" (and the Inference service's full name) is SERVING
/// once loading finished with at least one model ready and until the server drains; each model id is
/// SERVING while that model is ready and the server does not drain. Other names are NOT_FOUND (Check) or
/// SERVICE_UNKNOWN (Watch).
/// </summary>
internal sealed class EngineHealthService(InferenceEngine engine) : Health.HealthBase
{
    /// <summary>How often Watch looks at the engine for a change to send.</summary>
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(200);

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        StatusOf(request.Service) is { } status
            ? Task.FromResult(new HealthCheckResponse { Status = status })
            : throw new RpcException(new Status(StatusCode.NotFound, $"Unknown service '{request.Service}': ask for \"\", \"{Contracts.V1.Inference.Descriptor.FullName}\" or a model id"));

    /// <summary>Sends the current status, then every change, until the client goes away (the interceptor ends it as CANCELLED).</summary>
    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        ServingStatus? sent = null;
        using var timer = new PeriodicTimer(WatchInterval);
        do
        {
            var status = StatusOf(request.Service) ?? ServingStatus.ServiceUnknown;
            if (status != sent)
            {
                await responseStream.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken);
                sent = status;
            }
        }
        while (await timer.WaitForNextTickAsync(context.CancellationToken));
    }

    private ServingStatus? StatusOf(string service)
    {
        if (service.Length == 0 || service == Contracts.V1.Inference.Descriptor.FullName)
        {
            return engine.IsReady ? ServingStatus.Serving : ServingStatus.NotServing;
        }

        var model = engine.Models.FirstOrDefault(m => string.Equals(m.Id, service, StringComparison.Ordinal));
        if (model is null)
        {
            return null;
        }

        return model.State == ModelState.Ready && !engine.IsDraining ? ServingStatus.Serving : ServingStatus.NotServing;
    }
}
