namespace SovereignInference.Engine.Chat;

/// <summary>
/// An increment of a streamed tool call: the first delta of a call carries its <see cref="Id"/> and
/// <see cref="Name"/>, later ones fragments of its JSON <see cref="Arguments"/> (OpenAI's tool_calls deltas).
/// </summary>
public readonly record struct ToolCallDelta(int Index, string? Id, string? Name, string Arguments);
