using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Hosting;

/// <summary>The observed engine call (metrics, traces, <see cref="GenerationCompleted"/>) and draining.</summary>
public sealed partial class InferenceEngine
{
    private readonly CancellationTokenSource _shutdown = new();
    private int _inFlight;

    /// <summary>Raised once per engine call when it ends, on the caller's thread. Keep handlers cheap.</summary>
    public event Action<GenerationRecord>? GenerationCompleted;

    /// <summary>Raised after every successful embedding call with its request and the tokens it embedded (per-key token budgets).</summary>
    public event Action<EmbeddingRequest, int>? EmbeddingCompleted;

    /// <summary>Keep the generated text for <see cref="GenerationRecord.CompletionText"/> (audit with text).</summary>
    public bool CaptureCompletionText { get; set; }

    /// <summary>The engine's meter and instruments.</summary>
    public EngineTelemetry Telemetry { get; }

    /// <summary>Engine calls that have started and not yet ended.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Runs one generation and streams its deltas. Validation, tokenization and admission happen before the
    /// first element is produced, so a bad request throws <see cref="EngineException"/> from the first
    /// MoveNextAsync. Cancelling <paramref name="cancellationToken"/> removes the sequence from the batch
    /// within one step and ends the enumeration with <see cref="OperationCanceledException"/>. A call cut
    /// by the end of a drain ends with <see cref="EngineErrorCode.ShuttingDown"/>.
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(
        GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _inFlight);
        var observation = new GenerationObservation(Telemetry, request, CaptureCompletionText);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        var updates = GenerateCoreAsync(request, linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                GenerationUpdate update;
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        break;
                    }

                    update = updates.Current;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && _shutdown.IsCancellationRequested)
                {
                    var cut = new EngineException(EngineErrorCode.ShuttingDown, "the server shut down before this generation finished (drain timeout)");
                    observation.OnError(cut);
                    throw cut;
                }
                catch (Exception ex)
                {
                    observation.OnError(ex);
                    throw;
                }

                observation.OnUpdate(update);
                yield return update;
            }
        }
        finally
        {
            await updates.DisposeAsync();
            var entry = Manager.Find(request.Model);
            var served = entry is not null;
            var record = observation.End(entry?.Info?.Sha256, served);
            Interlocked.Decrement(ref _inFlight);
            Publish(record);
        }
    }

    /// <summary>
    /// Graceful shutdown: stops admitting (readiness turns false at once), lets the calls in flight finish
    /// for up to <paramref name="timeout"/>, then cancels the rest; they end with ShuttingDown.
    /// True when everything finished in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        BeginDrain();
        var deadline = DateTime.UtcNow + timeout;
        while (InFlight > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        if (InFlight == 0)
        {
            return true;
        }

        LogDrainCut(_logger, InFlight, timeout.TotalSeconds);
        await _shutdown.CancelAsync();
        var grace = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (InFlight > 0 && DateTime.UtcNow < grace)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        return false;
    }

    private void PublishEmbedding(EmbeddingRequest request, int tokens) => Notify(() => EmbeddingCompleted?.Invoke(request, tokens));

    private void Publish(GenerationRecord record) => Notify(() => GenerationCompleted?.Invoke(record));

    private void Notify(Action raise)
    {
        try
        {
            raise();
        }
#pragma warning disable CA1031 // an observer's failure must not fail the caller's call
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogObserverFailed(_logger, ex);
        }
    }

    [LoggerMessage(EventId = EngineEventIds.DrainTimeout, Level = LogLevel.Warning, Message = "Drain timeout of {Seconds}s reached with {Count} generations in flight; cancelling them")]
    private static partial void LogDrainCut(ILogger logger, int count, double seconds);

    [LoggerMessage(EventId = EngineEventIds.ObserverFailed, Level = LogLevel.Error, Message = "A GenerationCompleted or EmbeddingCompleted observer failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}
