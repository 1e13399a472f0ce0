using SovereignInference.Bench.Running;

namespace SovereignInference.Bench.Targets;

/// <summary>Picks the transport a run drives: gRPC when a gRPC URL is given, else the OpenAI HTTP API.</summary>
internal static class BenchTargets
{
    public static IBenchTarget Create(BenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var shared = new TargetSettings(settings.Model, settings.ApiKey, settings.Stream, settings.IgnoreEos, settings.Seed, settings.Timeout);
        if (settings.GrpcUrl is { } grpc)
        {
            return new GrpcGenerateTarget(grpc, shared);
        }

        return new OpenAiCompletionsTarget(settings.Url ?? throw new ArgumentException("--url or --grpc is required", nameof(settings)), shared);
    }
}
