using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Observability;

/// <summary>
/// Watches every engine call from the outside: counts it in flight (what a drain waits for), cuts it when the drain
/// times out, feeds its metrics and trace (<see cref="GenerationObservation"/>) and raises
/// <see cref="GenerationCompleted"/> and <see cref="EmbeddingCompleted"/>; an observer's failure is logged, never
/// the caller's.
/// </summary>
internal sealed partial class GenerationObserver(EngineTelemetry telemetry, ModelManager manager, DrainGate gate, ILogger logger)
{
    public event Action<GenerationRecord>? GenerationCompleted;

    public event Action<EmbeddingRequest, int>? EmbeddingCompleted;

    /// <summary>Keep the generated text for <see cref="GenerationRecord.CompletionText"/> (audit with text).</summary>
    public bool CaptureCompletionText { get; set; }

    /// <summary>
    /// <paramref name="run"/>'s updates, observed. A call cut by the end of a drain ends with
    /// <see cref="EngineErrorCode.ShuttingDown"/>; the caller's cancellation ends it with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> ObserveAsync(
        GenerationRequest request,
        Func<GenerationRequest, CancellationToken, IAsyncEnumerable<GenerationUpdate>> run,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        gate.Enter();
        var observation = new GenerationObservation(telemetry, request, CaptureCompletionText);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, gate.Shutdown);
        var updates = run(request, linked.Token).GetAsyncEnumerator(linked.Token);
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
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && gate.Shutdown.IsCancellationRequested)
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
            var entry = manager.Find(request.Model);
            var record = observation.End(entry?.Info?.Sha256, servedModel: entry is not null);
            gate.Exit();
            Notify(() => GenerationCompleted?.Invoke(record));
        }
    }

    /// <summary>Raises <see cref="EmbeddingCompleted"/> after a successful embedding call.</summary>
    public void EmbeddingDone(EmbeddingRequest request, int tokens) => Notify(() => EmbeddingCompleted?.Invoke(request, tokens));

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
            LogObserverFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = EngineEventIds.ObserverFailed, Level = LogLevel.Error, Message = "A GenerationCompleted or EmbeddingCompleted observer failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}
