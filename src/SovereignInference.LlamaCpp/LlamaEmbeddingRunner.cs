using LLama;
using LLama.Native;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// A llama.cpp context created with embeddings on and mean pooling. One input at a time in sequence 0; the
/// KV cache is cleared after each. Called only from its embedding worker's thread.
/// </summary>
internal sealed class LlamaEmbeddingRunner(LLamaContext context, int vocabSize, int dimensions, int maxTokens) : IEmbeddingRunner
{
    private readonly SafeLLamaContextHandle _handle = context.NativeHandle;
    private readonly LLamaBatch _batch = new();

    public int Dimensions { get; } = dimensions;

    public int MaxTokens { get; } = maxTokens;

    public float[] Embed(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0 || tokens.Length > MaxTokens)
        {
            throw new EngineException(EngineErrorCode.BackendFailure, $"embedding input of {tokens.Length} tokens is outside 1..{MaxTokens}");
        }

        _batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            // Last line of defence: nothing out of range may reach llama_decode (it aborts the process).
            if ((uint)tokens[i] >= (uint)vocabSize)
            {
                throw new EngineException(EngineErrorCode.BackendFailure, $"refusing token {tokens[i]}: outside the vocabulary");
            }

            _batch.Add((LLamaToken)tokens[i], (LLamaPos)i, LLamaSeqId.Zero, true);
        }

        try
        {
            var result = _handle.Decode(_batch);
            if (result != DecodeResult.Ok)
            {
                throw new EngineException(EngineErrorCode.BackendFailure, $"llama_decode failed for an embedding: {result}");
            }

            var embedding = _handle.GetEmbeddingsSeq(LLamaSeqId.Zero);
            if (embedding.Length < Dimensions)
            {
                throw new EngineException(EngineErrorCode.BackendFailure, $"llama.cpp returned {embedding.Length} embedding values, expected {Dimensions}");
            }

            return embedding[..Dimensions].ToArray();
        }
        finally
        {
            _handle.MemoryClear(true);
        }
    }

    public void Dispose() => context.Dispose();
}
