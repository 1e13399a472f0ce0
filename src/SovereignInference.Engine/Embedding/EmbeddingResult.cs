namespace SovereignInference.Engine.Embedding;

/// <summary>
/// One L2-normalized vector per input, in input order, and the number of tokens read (OpenAI
/// <c>usage.prompt_tokens</c>; also its <c>total_tokens</c>).
/// </summary>
public sealed record EmbeddingResult(IReadOnlyList<float[]> Vectors, int PromptTokens);
