using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Models;

/// <summary>
/// A loaded model as the engine sees it: sequences in, events out, embeddings. Either <see cref="InProcessModel"/>
/// (scheduler and llama context in this process) or <see cref="WorkerModel"/> (both in a worker process).
/// </summary>
internal interface IModelInstance : IDisposable
{
    /// <summary>Tokens one sequence holds.</summary>
    int SequenceContextSize { get; }

    /// <summary>Worker process id; null in process.</summary>
    int? Pid { get; }

    /// <summary>The in-process scheduler; null in a worker.</summary>
    ModelScheduler? Scheduler { get; }

    int ActiveSequences { get; }

    int QueuedRequests { get; }

    /// <summary>Completes with the reason when the instance dies on its own (a worker exited); never in process.</summary>
    Task<string> Exited { get; }

    /// <summary>Starts a validated sequence; its events arrive on <see cref="SequenceRequest.Events"/>.</summary>
    SequenceRequest Start(GenerationRequest request, int[] prompt, int maxNewTokens, TokenSampler sampler);

    /// <summary>Most tokens one embedding input may have; 0 when the model does not embed.</summary>
    int EmbeddingMaxTokens { get; }

    Task<float[][]> EmbedAsync(int[][] inputs, CancellationToken cancellationToken);
}
