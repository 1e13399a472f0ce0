using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Observability;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// One embedding call through the stages: Admission (not draining; a model configured for embeddings) → Models
/// (a lease, loading on demand) → Admission (inputs checked and tokenized) → the model instance → the observers.
/// </summary>
internal sealed class EmbeddingPipeline(ModelManager manager, DrainGate gate, GenerationObserver observer)
{
    public async Task<EmbeddingResult> RunAsync(EmbeddingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        gate.ThrowIfDraining();
        var known = manager.Resolve(request.Model);
        if (!known.SupportsEmbeddings)
        {
            throw EngineException.Invalid(
                "model",
                $"The model '{known.Id}' is not configured for embeddings; list it in the server's embedding models (config Sovereign:Embeddings:0={known.Id})");
        }

        var entry = await manager.AcquireAsync(request.Model, cancellationToken).ConfigureAwait(false);
        try
        {
            var instance = entry.Instance ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' was unloaded", "model");
            var inputs = EmbeddingAdmission.TokenizeInputs(request, entry.Tokenizer!, instance.EmbeddingMaxTokens);
            var vectors = await instance.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);
            var result = new EmbeddingResult(vectors, inputs.Sum(i => i.Length));
            observer.EmbeddingDone(request, result.PromptTokens);
            return result;
        }
        finally
        {
            manager.Release(entry, null);
        }
    }
}
