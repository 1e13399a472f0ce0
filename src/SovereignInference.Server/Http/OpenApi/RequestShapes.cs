using System.Text.Json;
using System.Text.Json.Serialization;

namespace SovereignInference.Server.Http.OpenApi;

// The request bodies as the OpenAPI document shows them. The parsers in Http/OpenAi/Validation/ read the JSON
// field by field (so an unknown or wrong field gets a 400 naming it); these records only describe the fields
// they accept and are never deserialized. A field whose shape varies (a string or an array) is a JsonElement.

/// <summary>POST /v1/chat/completions body.</summary>
internal sealed record ChatCompletionRequestShape(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("messages")] IReadOnlyList<ChatMessageShape> Messages,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens,
    [property: JsonPropertyName("temperature")] double? Temperature,
    [property: JsonPropertyName("top_p")] double? TopP,
    [property: JsonPropertyName("n")] int? N,
    [property: JsonPropertyName("stream")] bool? Stream,
    [property: JsonPropertyName("stream_options")] StreamOptionsShape? StreamOptions,
    [property: JsonPropertyName("stop")] JsonElement? Stop,
    [property: JsonPropertyName("seed")] long? Seed,
    [property: JsonPropertyName("presence_penalty")] double? PresencePenalty,
    [property: JsonPropertyName("frequency_penalty")] double? FrequencyPenalty,
    [property: JsonPropertyName("logit_bias")] IReadOnlyDictionary<string, double>? LogitBias,
    [property: JsonPropertyName("logprobs")] bool? Logprobs,
    [property: JsonPropertyName("top_logprobs")] int? TopLogprobs,
    [property: JsonPropertyName("tools")] IReadOnlyList<ToolShape>? Tools,
    [property: JsonPropertyName("tool_choice")] JsonElement? ToolChoice,
    [property: JsonPropertyName("response_format")] JsonElement? ResponseFormat,
    [property: JsonPropertyName("user")] string? User);

/// <summary>One message of a chat request; content is a string or an array of text parts.</summary>
internal sealed record ChatMessageShape(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] JsonElement? Content,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("tool_calls")] IReadOnlyList<JsonElement>? ToolCalls,
    [property: JsonPropertyName("tool_call_id")] string? ToolCallId);

/// <summary>A function tool: {"type":"function","function":{"name","description","parameters"}}.</summary>
internal sealed record ToolShape(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("function")] FunctionShape Function);

/// <summary>The function of a tool; parameters is a JSON Schema.</summary>
internal sealed record FunctionShape(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("parameters")] JsonElement? Parameters);

/// <summary>stream_options: include_usage adds a last chunk with usage.</summary>
internal sealed record StreamOptionsShape([property: JsonPropertyName("include_usage")] bool? IncludeUsage);

/// <summary>POST /v1/completions body; prompt is a string, an array of strings, token ids or arrays of token ids.</summary>
internal sealed record CompletionRequestShape(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("prompt")] JsonElement Prompt,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    [property: JsonPropertyName("temperature")] double? Temperature,
    [property: JsonPropertyName("top_p")] double? TopP,
    [property: JsonPropertyName("n")] int? N,
    [property: JsonPropertyName("stream")] bool? Stream,
    [property: JsonPropertyName("stream_options")] StreamOptionsShape? StreamOptions,
    [property: JsonPropertyName("stop")] JsonElement? Stop,
    [property: JsonPropertyName("seed")] long? Seed,
    [property: JsonPropertyName("logprobs")] int? Logprobs,
    [property: JsonPropertyName("presence_penalty")] double? PresencePenalty,
    [property: JsonPropertyName("frequency_penalty")] double? FrequencyPenalty,
    [property: JsonPropertyName("logit_bias")] IReadOnlyDictionary<string, double>? LogitBias,
    [property: JsonPropertyName("user")] string? User);

/// <summary>POST /v1/embeddings body; input is a string, an array of strings, token ids or arrays of token ids.</summary>
internal sealed record EmbeddingsRequestShape(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat,
    [property: JsonPropertyName("dimensions")] int? Dimensions,
    [property: JsonPropertyName("user")] string? User);

/// <summary>POST /tokenize body (llama-server's).</summary>
internal sealed record TokenizeRequestShape(
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("add_special")] bool? AddSpecial,
    [property: JsonPropertyName("parse_special")] bool? ParseSpecial,
    [property: JsonPropertyName("with_pieces")] bool? WithPieces);

/// <summary>POST /detokenize body (llama-server's).</summary>
internal sealed record DetokenizeRequestShape(
    [property: JsonPropertyName("tokens")] IReadOnlyList<int> Tokens,
    [property: JsonPropertyName("model")] string? Model);

/// <summary>POST /v1/responses body; input is a string or a list of items.</summary>
internal sealed record ResponsesRequestShape(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("instructions")] string? Instructions,
    [property: JsonPropertyName("tools")] IReadOnlyList<JsonElement>? Tools,
    [property: JsonPropertyName("tool_choice")] JsonElement? ToolChoice,
    [property: JsonPropertyName("text")] JsonElement? Text,
    [property: JsonPropertyName("max_output_tokens")] int? MaxOutputTokens,
    [property: JsonPropertyName("temperature")] double? Temperature,
    [property: JsonPropertyName("top_p")] double? TopP,
    [property: JsonPropertyName("stream")] bool? Stream,
    [property: JsonPropertyName("store")] bool? Store,
    [property: JsonPropertyName("previous_response_id")] string? PreviousResponseId,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata,
    [property: JsonPropertyName("user")] string? User);

/// <summary>A Responses API response object (the body of POST, GET /v1/responses and of response.completed).</summary>
internal sealed record ResponseObjectShape(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("output")] IReadOnlyList<JsonElement> Output,
    [property: JsonPropertyName("usage")] ResponseUsageShape? Usage,
    [property: JsonPropertyName("instructions")] string? Instructions,
    [property: JsonPropertyName("previous_response_id")] string? PreviousResponseId,
    [property: JsonPropertyName("store")] bool Store);

/// <summary>Token counts of a Responses API response.</summary>
internal sealed record ResponseUsageShape(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("output_tokens")] int OutputTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>DELETE /v1/responses/{id} answer.</summary>
internal sealed record ResponseDeletedShape(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("deleted")] bool Deleted);

/// <summary>One event of a streamed Responses API answer; each type adds its own members (delta, item, part, response, …).</summary>
internal sealed record ResponseStreamEventShape(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("sequence_number")] int SequenceNumber);
