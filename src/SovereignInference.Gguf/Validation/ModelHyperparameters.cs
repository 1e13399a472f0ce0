namespace SovereignInference.Gguf;

/// <summary>
/// The hyper-parameters of a llama-family model after validation, per layer where llama.cpp allows per-layer values.
/// Head dimensions follow llama.cpp: <c>n_embd / n_head(0)</c> unless <c>attention.key_length</c> /
/// <c>attention.value_length</c> give them.
/// </summary>
internal sealed record ModelHyperparameters
{
    public required string Architecture { get; init; }
    public required long ContextLength { get; init; }
    public required long EmbeddingLength { get; init; }
    public required int Layers { get; init; }
    public required long[] HeadCount { get; init; }
    public required long[] HeadCountKv { get; init; }
    public required long[] FeedForwardLength { get; init; }
    public required long HeadDimensionK { get; init; }
    public required long HeadDimensionV { get; init; }
    public required long RopeDimensions { get; init; }
    public required long ExpertCount { get; init; }
    public required long[] ExpertUsedCount { get; init; }
}
