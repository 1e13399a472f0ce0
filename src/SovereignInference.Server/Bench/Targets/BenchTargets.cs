using SovereignInference.Server.Bench.Running;

namespace SovereignInference.Server.Bench.Targets;

/// <summary>Picks the transport a run drives: gRPC when a gRPC URL is given, else the OpenAI HTTP API.</summary>
internal static class BenchTargets
{
    public static IBenchTarget Create(BenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.GrpcUrl is not null)
        {
            throw new NotSupportedException("the gRPC driver is not in this build yet (it needs the SovereignInference.Contracts project)");
        }

        return new OpenAiCompletionsTarget(
            settings.Url ?? throw new ArgumentException("--url or --grpc is required", nameof(settings)),
            new OpenAiCompletionsSettings(settings.Model, settings.ApiKey, settings.Stream, settings.IgnoreEos, settings.Seed, settings.Timeout));
    }
}
