using System.Text.Json.Serialization;

namespace SovereignInference.Server.Http.OpenAi.Contracts;

/// <summary>POST /v1/embeddings answer: {"object":"list","data":[…],"model","usage"}; T is float[] or a base64 string.</summary>
internal sealed record EmbeddingListResponse<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<EmbeddingDto<T>> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] EmbeddingUsage Usage)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "list";
}

/// <summary>{"object":"embedding","index","embedding"}.</summary>
internal sealed record EmbeddingDto<T>(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] T Embedding)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "embedding";
}

/// <summary>Embedding usage: prompt_tokens = total_tokens.</summary>
internal sealed record EmbeddingUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);
