namespace SovereignInference.Bench.Targets;

/// <summary>
/// A transport the benchmark drives: sends one generation request and records, as the response arrives, what the
/// client saw (<see cref="RequestTrace"/>). Implementations never throw for a failed request (they record the failure
/// in the trace); only cancellation of <c>cancellationToken</c> escapes. Safe to call concurrently.
/// </summary>
internal interface IBenchTarget : IAsyncDisposable
{
    /// <summary>For reports: "http", "grpc".</summary>
    string Transport { get; }

    /// <summary>For reports: the endpoint URL.</summary>
    string Endpoint { get; }

    Task<RequestTrace> SendAsync(BenchPrompt prompt, CancellationToken cancellationToken);
}
