namespace SovereignInference.Engine.Embedding;

/// <summary>Inputs to embed with one model: texts, or token-id lists (exactly one of the two).</summary>
public sealed record EmbeddingRequest
{
    /// <summary>Most inputs in one request (OpenAI's limit).</summary>
    public const int MaxInputs = 2048;

    /// <summary>Model id as listed by the engine; it must be configured for embeddings.</summary>
    public required string Model { get; init; }

    /// <summary>Texts to embed (tokenized with the model's default BOS, control-token text kept as text).</summary>
    public IReadOnlyList<string>? Texts { get; init; }

    /// <summary>Token-id lists to embed (validated against the vocabulary before native code).</summary>
    public IReadOnlyList<IReadOnlyList<int>>? TokenInputs { get; init; }

    /// <summary>Who asked (the API key's name): <see cref="Hosting.InferenceEngine.EmbeddingCompleted"/> carries it, so the key's token budget is charged.</summary>
    public string? User { get; init; }
}
