using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Observability;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The models' start: load every model (<see cref="LoadAllAsync"/>), or, with load on demand, only the pinned and
/// preloaded ones (<see cref="StartAsync"/>), and whether the catalog can serve. A model that fails to load is
/// recorded on its entry and the others load on.
/// </summary>
internal sealed partial class ModelStartup(EngineOptions options, ModelManager manager, IModelBackend backend, ILogger logger)
{
    private volatile bool _complete;

    /// <summary>The models to load at start have loaded or failed.</summary>
    public bool IsComplete => _complete;

    /// <summary>At least one model can serve: it is not failed, or it failed in a way a new load may mend.</summary>
    public bool CanServe => manager.Models.Any(m => m.State != ModelState.Failed || (!m.Unloadable && m.Instance is null));

    /// <summary>Validates and loads every model, one after the other, off the caller's thread (every model stays loaded).</summary>
    public Task LoadAllAsync(CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            LogBackend(logger, backend.Description);
            foreach (var entry in manager.Models)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TryLoadAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            _complete = true;
        },
        cancellationToken);

    /// <summary>
    /// Load-on-demand start: the catalog is already built; loads pinned models and those named by
    /// <see cref="EngineOptions.Preload"/> ("*" = all), then starts the keep-alive timer and the folder rescans.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            LogBackend(logger, backend.Description);
            var all = options.Preload.Contains("*");
            foreach (var id in options.Preload.Where(p => p != "*" && manager.Find(p) is null))
            {
                LogPreloadUnknown(logger, id);
            }

            foreach (var entry in manager.Models.Where(m => all || m.Pinned || options.Preload.Contains(m.Id)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TryLoadAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            _complete = true;
            manager.StartHousekeeping();
        },
        cancellationToken);

    private async Task TryLoadAsync(ModelEntry entry, CancellationToken cancellationToken)
    {
        if (entry.State == ModelState.Failed && entry.Unloadable)
        {
            return;
        }

        try
        {
            await manager.EnsureLoadedAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException)
        {
            // Recorded on the entry and logged by the manager; the other models load on.
        }
    }

    [LoggerMessage(EventId = EngineEventIds.Backend, Level = LogLevel.Information, Message = "Backend: {Description}")]
    private static partial void LogBackend(ILogger logger, string description);

    [LoggerMessage(EventId = EngineEventIds.PreloadUnknown, Level = LogLevel.Warning, Message = "--preload {Model} names no catalogued model")]
    private static partial void LogPreloadUnknown(ILogger logger, string model);
}
