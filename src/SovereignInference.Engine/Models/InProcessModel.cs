using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Models;

/// <summary>
/// A model loaded into this process: the llama context, its scheduler thread and embedding worker. The worker
/// process hosts the same class; the server uses it directly with <c>--isolation inprocess</c>.
/// </summary>
internal sealed class InProcessModel : IModelInstance
{
    private readonly LoadedModel _loaded;
    private readonly EmbeddingWorker? _embedder;

    public InProcessModel(string id, LoadedModel loaded, SchedulerOptions schedulerOptions, int queueCapacity, ILoggerFactory loggerFactory)
    {
        _loaded = loaded;
        Scheduler = new ModelScheduler(id, loaded.Runner, loaded.Tokenizer, schedulerOptions, loggerFactory.CreateLogger<ModelScheduler>());
        if (loaded.Embeddings is { } embeddingRunner)
        {
            _embedder = new EmbeddingWorker(id, embeddingRunner, queueCapacity, loggerFactory.CreateLogger<EmbeddingWorker>());
        }
    }

    public LoadedModel Loaded => _loaded;

    public int SequenceContextSize => Scheduler.SequenceContextSize;

    public int? Pid => null;

    public ModelScheduler Scheduler { get; }

    ModelScheduler? IModelInstance.Scheduler => Scheduler;

    public int ActiveSequences => Scheduler.ActiveSequences;

    public int QueuedRequests => Scheduler.QueuedRequests;

    public Task<string> Exited { get; } = new TaskCompletionSource<string>().Task;

    public int EmbeddingMaxTokens => _embedder?.MaxTokens ?? 0;

    public SequenceRequest Start(GenerationRequest request, int[] prompt, int maxNewTokens, TokenSampler sampler)
    {
        var constraint = CreateConstraint(request.Grammar);
        var sequence = new SequenceRequest(request, prompt, maxNewTokens, sampler, constraint);
        try
        {
            Scheduler.Enqueue(sequence);
        }
        catch
        {
            sequence.ReleaseConstraint();
            throw;
        }

        return sequence;
    }

    public Task<float[][]> EmbedAsync(int[][] inputs, CancellationToken cancellationToken) =>
        (_embedder ?? throw EngineException.Invalid("model", "The model is not configured for embeddings")).EmbedAsync(inputs, cancellationToken);

    /// <summary>Builds the model's grammar constraint (already validated in managed code by the engine).</summary>
    public ITokenConstraint? CreateConstraint(GrammarSpec? grammar)
    {
        if (grammar is null)
        {
            return null;
        }

        var factory = _loaded.Constraints
            ?? throw EngineException.Invalid("response_format", "The model does not support structured output (response_format)");
        var constraint = new ValidUtf8Constraint(factory.Create(grammar), _loaded.Tokenizer);
        return grammar.TriggerToken is { } trigger ? new LazyConstraint(trigger, constraint) : constraint;
    }

    public void Dispose()
    {
        Scheduler.Dispose();
        _embedder?.Dispose();
        _loaded.Dispose();
    }
}
