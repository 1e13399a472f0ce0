namespace SovereignInference.Engine.Chat;

/// <summary>How the model may use the tools (OpenAI tool_choice); the HTTP and gRPC adapters map their fields to it.</summary>
public enum ToolChoiceMode
{
    /// <summary>The model answers in text or calls tools, as it decides.</summary>
    Auto,

    /// <summary>The tools are not shown; the model answers in text.</summary>
    None,

    /// <summary>The reply must call a tool.</summary>
    Required,

    /// <summary>The reply must call one named function.</summary>
    Named,
}
