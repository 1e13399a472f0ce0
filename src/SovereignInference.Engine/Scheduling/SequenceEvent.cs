using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Scheduling;

/// <summary>What the scheduler thread tells one request: a sampled token, or the end.</summary>
public readonly record struct SequenceEvent(GeneratedToken Token, FinishReason? Finish, EngineException? Error)
{
    public bool IsFinal => Finish is not null;

    public static SequenceEvent ForToken(GeneratedToken token) => new(token, null, null);

    public static SequenceEvent Finished(FinishReason reason, EngineException? error = null) => new(default, reason, error);
}
