namespace SovereignInference.Engine.Chat;

/// <summary>One message of a conversation, as the transports hand it to the chat formatter.</summary>
/// <param name="Role">Who wrote it.</param>
/// <param name="Content">Its text (null for an assistant message that only calls tools).</param>
public sealed record ChatMessage(ChatRole Role, string? Content)
{
    /// <summary>Tool calls of an assistant message.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a tool message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>Optional author name (OpenAI "name"); templates that have no place for it ignore it (Mistral v2 names tool results by it).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The content as it was sent, a list of parts (null when it was one string). Mistral formats join adjacent
    /// non-empty text parts as mistral-common does ("\n\n", v15: nothing) and write thinking parts of a system
    /// message as [THINK]…[/THINK] (v13 and later); <see cref="Content"/> holds the text parts joined with "\n".
    /// </summary>
    public IReadOnlyList<ChatPart>? Parts { get; init; }

    /// <summary>For an assistant message: its thinking (OpenAI-style reasoning_content), rendered as [THINK]…[/THINK] by v13 and later.</summary>
    public string? Reasoning { get; init; }
}

/// <summary>One part of a message's content: text, or (Mistral's "thinking" chunk) reasoning.</summary>
/// <param name="Text">The part's text.</param>
/// <param name="IsThinking">A thinking chunk, rendered between [THINK] and [/THINK].</param>
public sealed record ChatPart(string Text, bool IsThinking = false)
{
    public static implicit operator ChatPart(string text) => new(text);
}

/// <summary>A call of a function tool.</summary>
/// <param name="Id">Call id (Mistral models want 9 alphanumeric characters; see <see cref="ToolCallIds"/>).</param>
/// <param name="Name">Function name.</param>
/// <param name="Arguments">The arguments as JSON text (OpenAI sends them as a string).</param>
public sealed record ChatToolCall(string Id, string Name, string Arguments);

/// <summary>A function the model may call.</summary>
/// <param name="Name">Function name.</param>
/// <param name="Description">What it does (may be empty).</param>
/// <param name="ParametersJson">JSON Schema of its arguments as JSON text, or null for none.</param>
public sealed record ToolDefinition(string Name, string? Description, string? ParametersJson);
