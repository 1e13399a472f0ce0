using LLama;
using LLama.Native;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// One llama.cpp context with N sequence slots (non-unified KV cache: every slot has its own
/// <see cref="SequenceContextSize"/> cells). Called only from its scheduler's thread.
/// </summary>
internal sealed class LlamaModelRunner : IModelRunner
{
    private readonly LLamaContext _context;
    private readonly SafeLLamaContextHandle _handle;
    private readonly LLamaBatch _batch = new();
    private int _lastBatchSize;

    public LlamaModelRunner(LLamaContext context, int vocabSize, int sequenceContextSize, int maxSequences, int maxBatchTokens)
    {
        _context = context;
        _handle = context.NativeHandle;
        VocabSize = vocabSize;
        SequenceContextSize = sequenceContextSize;
        MaxSequences = maxSequences;
        MaxBatchTokens = maxBatchTokens;
    }

    public int VocabSize { get; }

    public int SequenceContextSize { get; }

    public int MaxSequences { get; }

    public int MaxBatchTokens { get; }

    public void Decode(ReadOnlySpan<BatchToken> batch)
    {
        if (batch.Length == 0 || batch.Length > MaxBatchTokens)
        {
            throw new EngineException(EngineErrorCode.BackendFailure, $"batch of {batch.Length} tokens is outside 1..{MaxBatchTokens}");
        }

        _batch.Clear();
        foreach (var t in batch)
        {
            // Last line of defence: nothing out of range may reach llama_decode (it aborts the process).
            if ((uint)t.Token >= (uint)VocabSize || (uint)t.Sequence >= (uint)MaxSequences || (uint)t.Position >= (uint)SequenceContextSize)
            {
                throw new EngineException(EngineErrorCode.BackendFailure, $"refusing batch entry {t}: token, sequence or position out of range");
            }

            _batch.Add((LLamaToken)t.Token, (LLamaPos)t.Position, (LLamaSeqId)t.Sequence, t.WantLogits);
        }

        var result = _handle.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new EngineException(EngineErrorCode.BackendFailure, $"llama_decode failed: {result}");
        }

        _lastBatchSize = batch.Length;
    }

    public ReadOnlySpan<float> GetLogits(int batchIndex)
    {
        if ((uint)batchIndex >= (uint)_lastBatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(batchIndex));
        }

        return _handle.GetLogitsIth(batchIndex)[..VocabSize];
    }

    public void TruncateSequence(int sequence, int fromPosition)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)sequence, (uint)MaxSequences, nameof(sequence));
        _handle.MemorySequenceRemove((LLamaSeqId)sequence, (LLamaPos)fromPosition, (LLamaPos)(-1));
    }

    public int SequenceLength(int sequence)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)sequence, (uint)MaxSequences, nameof(sequence));
        return (int)_handle.MemorySequenceMaxPosition((LLamaSeqId)sequence) + 1;
    }

    public void Dispose() => _context.Dispose();
}
