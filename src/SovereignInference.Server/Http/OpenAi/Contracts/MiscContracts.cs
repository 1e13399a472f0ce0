using System.Text.Json.Serialization;

namespace SovereignInference.Server.Http.OpenAi.Contracts;

/// <summary>{"error":{"message","type","param","code"}}.</summary>
internal sealed record ErrorResponse([property: JsonPropertyName("error")] ErrorBody Error);

internal sealed record ErrorBody(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonPropertyName("code"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

/// <summary>POST /tokenize answer (llama-server style).</summary>
internal sealed record TokenizeResponse([property: JsonPropertyName("tokens")] IReadOnlyList<int> Tokens);

internal sealed record TokenizeWithPiecesResponse([property: JsonPropertyName("tokens")] IReadOnlyList<TokenPiece> Tokens);

internal sealed record TokenPiece([property: JsonPropertyName("id")] int Id, [property: JsonPropertyName("piece")] string Piece);

/// <summary>POST /detokenize answer.</summary>
/// <summary>POST /apply-template: the prompt a conversation becomes, and the chat format that rendered it.</summary>
internal sealed record ApplyTemplateResponse(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("format")] string Format);

internal sealed record DetokenizeResponse([property: JsonPropertyName("content")] string Content);

/// <summary>An OpenAI model object plus provenance fields.</summary>
internal sealed record ModelDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("file_size")] long? FileSize,
    [property: JsonPropertyName("quantization")] string? Quantization,
    [property: JsonPropertyName("context_length")] long? ContextLength,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("parameters")] long? Parameters,
    [property: JsonPropertyName("status")] string? Status = null,
    [property: JsonPropertyName("status_reason")] string? StatusReason = null,
    [property: JsonPropertyName("memory_estimate_bytes")] long? MemoryEstimateBytes = null,
    [property: JsonPropertyName("pid")] int? Pid = null,
    [property: JsonPropertyName("pinned")] bool? Pinned = null,
    [property: JsonPropertyName("memory_estimate_by_device")] IReadOnlyDictionary<string, long>? MemoryEstimateByDevice = null)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "model";

    [JsonPropertyName("owned_by")]
    public string OwnedBy { get; init; } = "sovereign";
}

internal sealed record ModelListDto([property: JsonPropertyName("data")] IReadOnlyList<ModelDto> Data)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "list";
}
