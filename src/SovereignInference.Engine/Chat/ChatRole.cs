namespace SovereignInference.Engine.Chat;

/// <summary>Who wrote a chat message.</summary>
public enum ChatRole
{
    /// <summary>Instructions for the assistant.</summary>
    System,

    /// <summary>The human side of the conversation.</summary>
    User,

    /// <summary>The model's earlier answers, including its tool calls.</summary>
    Assistant,

    /// <summary>The result of a tool call, answering one assistant tool call by id.</summary>
    Tool,
}
