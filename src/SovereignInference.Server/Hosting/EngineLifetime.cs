using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Hosting;

/// <summary>
/// Starts the engine in the background (readiness stays 503 until it is done): with load on demand (serve's default)
/// it loads only pinned and --preload models and starts the keep-alive and folder rescans; otherwise every model. At shutdown (SIGTERM)
/// drains: readiness turns 503 and new requests are refused at once, generations in flight finish for up
/// to the drain timeout, then the rest are cancelled. The engine itself is disposed with the host, after
/// Kestrel has finished the last responses.
/// </summary>
internal sealed class EngineLifetime(InferenceEngine engine, EngineOptions options, LifecycleOptions lifecycle) : IHostedLifecycleService
{
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = options.LoadOnDemand ? engine.StartAsync(CancellationToken.None) : engine.LoadAllAsync(CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before any hosted service stops, Kestrel included: it still answers (503) while the engine drains.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        engine.BeginDrain();
        await engine.DrainAsync(lifecycle.DrainTimeout, cancellationToken);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
