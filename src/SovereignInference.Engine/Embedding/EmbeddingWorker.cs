using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;

namespace SovereignInference.Engine.Embedding;

/// <summary>
/// The one thread that owns a model's embedding context. Callers hand it validated token lists through a
/// bounded channel and await the vectors; the thread embeds them one input at a time and L2-normalizes them.
/// </summary>
public sealed partial class EmbeddingWorker : IDisposable
{
    private readonly IEmbeddingRunner _runner;
    private readonly ILogger _logger;
    private readonly Channel<Job> _jobs;
    private readonly Thread _thread;
    private readonly string _name;
    private volatile bool _stopping;

    public EmbeddingWorker(string name, IEmbeddingRunner runner, int queueCapacity, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        _name = name;
        _runner = runner;
        _logger = logger;
        _jobs = Channel.CreateBounded<Job>(new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _thread = new Thread(Run) { IsBackground = true, Name = $"sovereign-embed:{name}" };
        _thread.Start();
    }

    /// <summary>Length of every vector.</summary>
    public int Dimensions => _runner.Dimensions;

    /// <summary>Most tokens one input may have.</summary>
    public int MaxTokens => _runner.MaxTokens;

    /// <summary>Queues validated inputs; throws Overloaded at once when the queue is full.</summary>
    public Task<float[][]> EmbedAsync(int[][] inputs, CancellationToken cancellationToken)
    {
        if (_stopping)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }

        var job = new Job(inputs, cancellationToken);
        if (!_jobs.Writer.TryWrite(job))
        {
            throw new EngineException(
                EngineErrorCode.Overloaded,
                $"model '{_name}' is overloaded with embedding requests; retry later",
                retryAfter: TimeSpan.FromSeconds(1));
        }

        return job.Result.Task;
    }

    public void Dispose()
    {
        _stopping = true;
        _jobs.Writer.TryComplete();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    /// <summary>Scales <paramref name="vector"/> to unit L2 norm in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        double sum = 0;
        foreach (var v in vector)
        {
            sum += (double)v * v;
        }

        if (sum <= 0 || double.IsNaN(sum) || double.IsInfinity(sum))
        {
            return;
        }

        var scale = (float)(1 / Math.Sqrt(sum));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] *= scale;
        }
    }

    private void Run()
    {
        var reader = _jobs.Reader;
        while (true)
        {
            if (!reader.TryRead(out var job))
            {
                // Blocks this thread only, so the context never leaves it.
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return;
                }

                continue;
            }

            if (_stopping)
            {
                job.Result.TrySetException(new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down; the request was not run"));
                continue;
            }

            Process(job);
        }
    }

    private void Process(Job job)
    {
        var vectors = new float[job.Inputs.Length][];
        try
        {
            for (var i = 0; i < job.Inputs.Length; i++)
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Result.TrySetCanceled(job.CancellationToken);
                    return;
                }

                var vector = _runner.Embed(job.Inputs[i]);
                Normalize(vector);
                vectors[i] = vector;
            }

            job.Result.TrySetResult(vectors);
        }
        catch (EngineException ex)
        {
            LogEmbedFailed(_logger, ex, _name);
            job.Result.TrySetException(ex);
        }
    }

    [LoggerMessage(EventId = EngineEventIds.EmbeddingFailed, Level = LogLevel.Error, Message = "Embedding failed on model {Model}; the request was dropped")]
    private static partial void LogEmbedFailed(ILogger logger, Exception exception, string model);

    private sealed record Job(int[][] Inputs, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
