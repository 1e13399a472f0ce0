using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The real LLamaSharp backend with two gates a test opens and closes, to make states observable that are
/// otherwise over too fast to see: a model load waits for <see cref="ReleaseLoads"/>, and once
/// <see cref="HoldDecodes"/> is called every decode waits for <see cref="ReleaseDecodes"/>. It can also fail the
/// next decode as a broken native backend would (<see cref="FailNextDecode"/>).
/// Register it with <see cref="ServerHarness.StartAsync"/>'s services callback; production never sees it.
/// </summary>
public sealed class HeldBackend : IModelBackend
{
    private readonly LlamaBackend _inner = new();
    private readonly ManualResetEventSlim _loads;
    private readonly ManualResetEventSlim _decodes = new(initialState: true);
    private int _decodesStarted;
    private int _failingDecode;
    private EngineException? _decodeFailure;

    /// <param name="holdLoads">Loads wait until <see cref="ReleaseLoads"/>.</param>
    public HeldBackend(bool holdLoads) => _loads = new ManualResetEventSlim(initialState: !holdLoads);

    /// <summary>Set once a load has reached the gate.</summary>
    public TaskCompletionSource LoadStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Decode calls that have begun (held or not).</summary>
    public int DecodesStarted => Volatile.Read(ref _decodesStarted);

    public string Description => _inner.Description;

    public long AvailableMemoryBytes(bool offloadToGpu) => _inner.AvailableMemoryBytes(offloadToGpu);

    public LoadedModel Load(ModelLoadSpec spec)
    {
        LoadStarted.TrySetResult();
        _loads.Wait();
        var loaded = _inner.Load(spec);
        return new LoadedModel(new HeldRunner(loaded.Runner, this), loaded.Tokenizer, loaded, loaded.Constraints, loaded.Embeddings);
    }

    public void ReleaseLoads() => _loads.Set();

    public void HoldDecodes() => _decodes.Reset();

    public void ReleaseDecodes() => _decodes.Set();

    /// <summary>
    /// Decode call number <paramref name="ordinal"/> (counted as <see cref="DecodesStarted"/> counts them) throws
    /// <paramref name="failure"/> instead of running. Naming the call, rather than "the next one", does not race the
    /// scheduler: set it while decodes are held, and the failure lands on exactly that step.
    /// </summary>
    public void FailDecode(int ordinal, EngineException failure)
    {
        Volatile.Write(ref _decodeFailure, failure);
        Volatile.Write(ref _failingDecode, ordinal);
    }

    private sealed class HeldRunner(IModelRunner inner, HeldBackend owner) : IModelRunner
    {
        public int VocabSize => inner.VocabSize;

        public int SequenceContextSize => inner.SequenceContextSize;

        public int MaxSequences => inner.MaxSequences;

        public int MaxBatchTokens => inner.MaxBatchTokens;

        public void Decode(ReadOnlySpan<BatchToken> batch)
        {
            var ordinal = Interlocked.Increment(ref owner._decodesStarted);
            owner._decodes.Wait();
            if (ordinal == Volatile.Read(ref owner._failingDecode) && Volatile.Read(ref owner._decodeFailure) is { } failure)
            {
                throw failure;
            }

            inner.Decode(batch);
        }

        public ReadOnlySpan<float> GetLogits(int batchIndex) => inner.GetLogits(batchIndex);

        public void TruncateSequence(int sequence, int fromPosition) => inner.TruncateSequence(sequence, fromPosition);

        public int SequenceLength(int sequence) => inner.SequenceLength(sequence);

        public void Dispose()
        {
            // The wrapped LoadedModel (the owner passed to the new LoadedModel) disposes the real runner.
        }
    }
}
