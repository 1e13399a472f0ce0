using System.Text.Json.Serialization;

namespace SovereignInference.Server.Http.OpenAi.Contracts;

/// <summary>A non-streamed chat completion ("chat.completion").</summary>
internal sealed record ChatCompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChoice> Choices,
    [property: JsonPropertyName("usage")] UsageDto Usage)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "chat.completion";
}

internal sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatMessageDto Message,
    [property: JsonPropertyName("logprobs"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

internal sealed record ChatMessageDto(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Content,
    [property: JsonPropertyName("tool_calls")] IReadOnlyList<ToolCallDto>? ToolCalls)
{
    /// <summary>Always null (the model never refuses through this field), but present: OpenAI's spec requires it and generated clients throw without it.</summary>
    [JsonPropertyName("refusal"), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal { get; init; }

    /// <summary>The thinking of a reasoning model (field name "reasoning_content", see ServerOptions.ReasoningField).</summary>
    [JsonPropertyName("reasoning_content")]
    public string? ReasoningContent { get; init; }

    /// <summary>The same under the name "reasoning".</summary>
    [JsonPropertyName("reasoning")]
    public string? Reasoning { get; init; }
}

internal sealed record ToolCallDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("function")] FunctionCallDto Function)
{
    [JsonPropertyName("type")]
    public string Type { get; init; } = "function";
}

internal sealed record FunctionCallDto(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("arguments")] string? Arguments);

/// <summary>One server-sent event of a streamed chat completion ("chat.completion.chunk").</summary>
internal sealed record ChatCompletionChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonPropertyName("usage")] UsageDto? Usage = null)
{
    [JsonPropertyName("object")]
    public string Object { get; init; } = "chat.completion.chunk";
}

internal sealed record ChatChunkChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("delta")] ChatDelta Delta,
    [property: JsonPropertyName("logprobs"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

internal sealed record ChatDelta(
    [property: JsonPropertyName("role")] string? Role = null,
    [property: JsonPropertyName("content")] string? Content = null,
    [property: JsonPropertyName("tool_calls")] IReadOnlyList<ToolCallDeltaDto>? ToolCalls = null)
{
    /// <summary>New thinking (field name "reasoning_content", see ServerOptions.ReasoningField).</summary>
    [JsonPropertyName("reasoning_content")]
    public string? ReasoningContent { get; init; }

    /// <summary>The same under the name "reasoning".</summary>
    [JsonPropertyName("reasoning")]
    public string? Reasoning { get; init; }

    /// <summary>This delta with its thinking under the configured field name.</summary>
    public ChatDelta WithReasoning(string? text, string field) => string.IsNullOrEmpty(text)
        ? this
        : field == "reasoning" ? this with { Reasoning = text } : this with { ReasoningContent = text };
}

internal sealed record ToolCallDeltaDto(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("function")] FunctionCallDto Function);

/// <summary>choices[].logprobs of chat completions.</summary>
internal sealed record ChatLogprobs([property: JsonPropertyName("content")] IReadOnlyList<ChatTokenLogprob> Content)
{
    /// <summary>Always null; required (nullable) by OpenAI's spec.</summary>
    [JsonPropertyName("refusal"), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<ChatTokenLogprob>? Refusal { get; init; }
}

internal sealed record ChatTokenLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] IReadOnlyList<int> Bytes,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<ChatTopLogprob> TopLogprobs);

internal sealed record ChatTopLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] IReadOnlyList<int> Bytes);

internal sealed record UsageDto(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("prompt_tokens_details")] PromptTokensDetails PromptTokensDetails)
{
    [JsonPropertyName("total_tokens")]
    public int TotalTokens => PromptTokens + CompletionTokens;
}

internal sealed record PromptTokensDetails([property: JsonPropertyName("cached_tokens")] int CachedTokens);
