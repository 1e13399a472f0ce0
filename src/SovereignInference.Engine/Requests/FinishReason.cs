namespace SovereignInference.Engine.Requests;

/// <summary>Why a generation ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-generation token or a stop string.</summary>
    Stop,

    /// <summary>max_tokens reached or the sequence context is full.</summary>
    Length,

    /// <summary>The caller cancelled or its deadline passed.</summary>
    Cancelled,

    /// <summary>The backend failed; the request was dropped.</summary>
    Error,
}
