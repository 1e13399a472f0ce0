namespace SovereignInference.Engine.Abstractions;

/// <summary>
/// A context that turns a token sequence into one pooled (mean) embedding. Not thread-safe: exactly one
/// thread (the model's embedding worker) calls it. Inputs are validated before they get here.
/// </summary>
public interface IEmbeddingRunner : IDisposable
{
    /// <summary>Length of an embedding vector (the model's n_embd).</summary>
    int Dimensions { get; }

    /// <summary>Most tokens one input may have.</summary>
    int MaxTokens { get; }

    /// <summary>
    /// The pooled embedding of <paramref name="tokens"/> (1..<see cref="MaxTokens"/> ids inside the vocabulary),
    /// not normalized. Throws <see cref="Errors.EngineException"/> when the backend fails.
    /// </summary>
    float[] Embed(ReadOnlySpan<int> tokens);
}
