using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;

namespace SovereignInference.Engine.Admission;

/// <summary>
/// Whether the engine still admits work, and the engine calls in flight that a drain waits for. Once draining,
/// new generations and embeddings are refused with ShuttingDown; those running go on until the drain timeout cuts
/// them through <see cref="Shutdown"/>.
/// </summary>
internal sealed partial class DrainGate(ILogger logger) : IDisposable
{
    private readonly CancellationTokenSource _shutdown = new();
    private volatile bool _draining;
    private int _inFlight;

    public bool IsDraining => _draining;

    /// <summary>Engine calls that have started and not yet ended.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Cancelled when a drain's timeout runs out: the calls still running end with ShuttingDown.</summary>
    public CancellationToken Shutdown => _shutdown.Token;

    /// <summary>Stops admitting new requests; in-flight ones go on.</summary>
    public void BeginDrain() => _draining = true;

    /// <exception cref="EngineException">ShuttingDown once a drain began.</exception>
    public void ThrowIfDraining()
    {
        if (_draining)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }
    }

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// Graceful shutdown: stops admitting, lets the calls in flight finish for up to <paramref name="timeout"/>, then
    /// cancels the rest. True when everything finished in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        BeginDrain();
        var deadline = DateTime.UtcNow + timeout;
        while (InFlight > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        if (InFlight == 0)
        {
            return true;
        }

        LogDrainCut(logger, InFlight, timeout.TotalSeconds);
        await _shutdown.CancelAsync().ConfigureAwait(false);
        var grace = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (InFlight > 0 && DateTime.UtcNow < grace)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        return false;
    }

    public void Dispose()
    {
        _draining = true;
        _shutdown.Dispose();
    }

    [LoggerMessage(EventId = EngineEventIds.DrainTimeout, Level = LogLevel.Warning, Message = "Drain timeout of {Seconds}s reached with {Count} generations in flight; cancelling them")]
    private static partial void LogDrainCut(ILogger logger, int count, double seconds);
}
