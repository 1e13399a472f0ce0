using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Hosting;

/// <summary>Starts model loading in the background (readiness stays 503 until it is done) and disposes the engine at shutdown.</summary>
internal sealed class EngineLifetime(InferenceEngine engine) : IHostedService
{
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = engine.LoadAllAsync(CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        engine.BeginDrain();
        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await engine.DisposeAsync();
    }
}
