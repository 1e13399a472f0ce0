namespace SovereignInference.Engine.Output;

/// <summary>Why an assistant reply ended, as chat APIs report it.</summary>
public enum ChatFinish
{
    /// <summary>An end-of-generation token or a stop string ended a text reply.</summary>
    Stop,

    /// <summary>max_tokens were generated or the sequence context is full.</summary>
    Length,

    /// <summary>The reply is one or more tool calls.</summary>
    ToolCalls,
}
