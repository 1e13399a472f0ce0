namespace SovereignInference.Engine.Abstractions;

/// <summary>
/// A loaded model with one context of <see cref="MaxSequences"/> sequence slots. Not thread-safe:
/// exactly one thread (the model's scheduler thread) calls it.
/// </summary>
public interface IModelRunner : IDisposable
{
    /// <summary>Number of entries in a logits row.</summary>
    int VocabSize { get; }

    /// <summary>Tokens one sequence may hold (prompt + generated).</summary>
    int SequenceContextSize { get; }

    /// <summary>Number of sequence slots; sequence ids are 0..MaxSequences-1.</summary>
    int MaxSequences { get; }

    /// <summary>Largest number of tokens one <see cref="Decode"/> call accepts.</summary>
    int MaxBatchTokens { get; }

    /// <summary>Runs the model over one batch. Throws <see cref="Errors.EngineException"/> when the backend fails.</summary>
    void Decode(ReadOnlySpan<BatchToken> batch);

    /// <summary>Logits for the batch entry at <paramref name="batchIndex"/> of the last decode (it must have asked for logits).</summary>
    ReadOnlySpan<float> GetLogits(int batchIndex);

    /// <summary>Drops the KV cells of <paramref name="sequence"/> at positions &gt;= <paramref name="fromPosition"/>.</summary>
    void TruncateSequence(int sequence, int fromPosition);

    /// <summary>Number of positions the KV cache currently holds for <paramref name="sequence"/> (0 when empty).</summary>
    int SequenceLength(int sequence);
}
