using System.Text.Json.Serialization;

namespace SovereignInference.Server.Http.OpenAi.Contracts;

/// <summary>Source-generated serializers for every response body of the OpenAI API.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(TokenizeResponse))]
[JsonSerializable(typeof(TokenizeWithPiecesResponse))]
[JsonSerializable(typeof(DetokenizeResponse))]
[JsonSerializable(typeof(ApplyTemplateResponse))]
[JsonSerializable(typeof(ModelDto))]
[JsonSerializable(typeof(ModelListDto))]
[JsonSerializable(typeof(EmbeddingListResponse<float[]>), TypeInfoPropertyName = "EmbeddingListResponseSingleArray")]
[JsonSerializable(typeof(EmbeddingListResponse<string>), TypeInfoPropertyName = "EmbeddingListResponseString")]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext;
