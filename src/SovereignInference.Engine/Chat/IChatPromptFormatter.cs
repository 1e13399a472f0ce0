using SovereignInference.Engine.Hosting;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Renders a conversation into the prompt text of a model's chat template (Mistral [INST] … [/INST] and
/// friends). Transports call it, then hand the text to <see cref="InferenceEngine.GenerateAsync"/> with
/// special-token parsing on and no extra BOS. Implementations are thread-safe.
/// </summary>
/// <remarks>
/// Minimal contract the gRPC Chat RPC is written against; the HTTP branch's formatter implements it at merge.
/// </remarks>
public interface IChatPromptFormatter
{
    /// <summary>The prompt text for <paramref name="messages"/>, including BOS and control tokens as text.</summary>
    /// <exception cref="Errors.EngineException">
    /// <see cref="Errors.EngineErrorCode.InvalidArgument"/> naming the field (e.g. "messages[2].role") when the
    /// conversation cannot be rendered (roles out of order, a tool result without its call, …).
    /// </exception>
    string Format(ModelEntry model, IReadOnlyList<ChatPromptMessage> messages, IReadOnlyList<ChatPromptTool> tools);
}

/// <summary>One message of a conversation: role "system", "user", "assistant" or "tool".</summary>
public sealed record ChatPromptMessage(string Role, string Content, IReadOnlyList<ChatPromptToolCall> ToolCalls, string? ToolCallId, string? Name);

/// <summary>A function the model may call; <see cref="ParametersJson"/> is a JSON Schema object text.</summary>
public sealed record ChatPromptTool(string Name, string? Description, string? ParametersJson);

/// <summary>A tool call an assistant message made; <see cref="ArgumentsJson"/> is a JSON object text.</summary>
public sealed record ChatPromptToolCall(string Id, string Name, string ArgumentsJson);
