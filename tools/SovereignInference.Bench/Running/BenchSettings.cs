namespace SovereignInference.Bench.Running;

/// <summary>A benchmark run as the command line asked for it.</summary>
internal sealed record BenchSettings
{
    /// <summary>HTTP base URL (OpenAI-compatible server); null when <see cref="GrpcUrl"/> is used.</summary>
    public Uri? Url { get; init; }

    /// <summary>gRPC URL (sovereign.inference.v1.Inference); when set it is driven instead of HTTP.</summary>
    public Uri? GrpcUrl { get; init; }

    public string? ApiKey { get; init; }

    public required string Model { get; init; }

    /// <summary>Concurrency levels, run one after another.</summary>
    public required IReadOnlyList<int> Concurrency { get; init; }

    /// <summary>Requests per concurrency level.</summary>
    public required int Requests { get; init; }

    public required int PromptTokens { get; init; }

    public required int MaxTokens { get; init; }

    public bool Stream { get; init; } = true;

    public bool IgnoreEos { get; init; } = true;

    /// <summary>Seeds the synthetic prompts and, when given, is sent to the server as the sampling seed.</summary>
    public long? Seed { get; init; }

    public string? PromptFile { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Unmeasured short requests sent before the first level, at its concurrency.</summary>
    public int WarmUp { get; init; }

    /// <summary>Wait this long after start-up before the first request (lets a second client join a running load).</summary>
    public TimeSpan Delay { get; init; }
}
