using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Models;

/// <summary>
/// Models for callers by id: a ready one, one loaded on demand, the first available, and the admin load and unload.
/// The lifecycle itself (loads, leases, eviction) is <see cref="ModelManager"/>'s.
/// </summary>
internal sealed class ModelLookup(ModelManager manager)
{
    /// <summary>Sequences active across all models.</summary>
    public int ActiveSequences => manager.Models.Sum(m => m.Instance?.ActiveSequences ?? 0);

    /// <summary>Finds a loaded model, or throws ModelNotFound / ModelNotReady (see <see cref="GetModelAsync"/> to load on demand).</summary>
    public ModelEntry GetReadyModel(string id)
    {
        var entry = manager.Find(id);
        if (string.IsNullOrEmpty(id) || entry is null)
        {
            throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model");
        }

        if (entry.State != ModelState.Ready)
        {
            throw new EngineException(
                EngineErrorCode.ModelNotReady,
                entry.State == ModelState.Failed ? $"The model '{id}' failed to load: {entry.Error}" : $"The model '{id}' is {entry.Status}",
                "model");
        }

        return entry;
    }

    /// <summary>
    /// A model whose tokenizer and chat template are known, loading it first when it never was (concurrent callers
    /// share the load). Throws ModelNotFound, or ModelNotReady (503) with the reason when the load fails.
    /// </summary>
    public async Task<ModelEntry> GetModelAsync(string? id, CancellationToken cancellationToken)
    {
        var entry = manager.Resolve(id);
        if (entry.Tokenizer is null || entry.State == ModelState.Failed)
        {
            await manager.EnsureLoadedAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        return entry;
    }

    /// <summary>
    /// A model with its tokenizer by id (loading it when it never was), or when <paramref name="id"/> is null the first
    /// loaded model, else the first that can load (llama-server's "no model" form).
    /// </summary>
    public ModelEntry GetReadyModelOrFirst(string? id)
    {
        if (id is null)
        {
            var models = manager.Models;
            var first = models.FirstOrDefault(m => m.State == ModelState.Ready)
                ?? models.FirstOrDefault(m => m.Tokenizer is not null)
                ?? models.FirstOrDefault(m => !m.Unloadable)
                ?? throw new EngineException(EngineErrorCode.ModelNotReady, "No model is ready yet", "model");
            id = first.Id;
        }

        var entry = manager.Find(id);
        return entry?.Tokenizer is not null ? entry : GetModelAsync(id, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Admin load (POST /models/load, gRPC LoadModel): loads the model and keeps it for its keep-alive.</summary>
    public async Task<ModelEntry> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var entry = await manager.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        manager.Release(entry, null);
        return entry;
    }

    /// <summary>Admin unload (POST /models/unload, gRPC UnloadModel): ends its worker now when idle, else when its requests end.</summary>
    public ModelEntry Unload(string id)
    {
        var entry = manager.Resolve(id);
        manager.RequestUnload(entry);
        return entry;
    }
}
