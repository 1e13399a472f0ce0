using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// One assistant reply to generate with <see cref="Hosting.InferenceEngine.ChatAsync"/>: the conversation, the tools
/// the model may call and how, and the generation settings.
/// </summary>
public sealed record ChatGenerationRequest
{
    /// <summary>
    /// Model, sampling, limits, stop strings, user, keep_alive and a response_format grammar. Its prompt fields are
    /// ignored: the rendered conversation is the prompt.
    /// </summary>
    public required GenerationRequest Generation { get; init; }

    /// <summary>The conversation, oldest first; a final assistant message is continued by the reply.</summary>
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>Tools the model may call; null or empty when tools are off.</summary>
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }

    /// <summary>How the reply may use the tools: <see cref="ToolChoiceMode.None"/> hides them; Required and Named force a call.</summary>
    public ToolChoiceMode ToolChoice { get; init; } = ToolChoiceMode.Auto;

    /// <summary>With <see cref="ToolChoiceMode.Named"/>: the function the reply must call.</summary>
    public string? ForcedFunction { get; init; }

    /// <summary>OpenAI reasoning_effort (none, minimal, low, medium, high); null to leave it out.</summary>
    public string? ReasoningEffort { get; init; }
}
