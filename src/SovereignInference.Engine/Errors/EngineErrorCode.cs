namespace SovereignInference.Engine.Errors;

/// <summary>Every way an engine call can fail. Transports map each member once to HTTP and gRPC status.</summary>
public enum EngineErrorCode
{
    /// <summary>A request parameter is invalid; <see cref="EngineException.Param"/> names it.</summary>
    InvalidArgument,

    /// <summary>No model with the requested id is configured.</summary>
    ModelNotFound,

    /// <summary>The model exists but is not loaded (yet), or failed to load.</summary>
    ModelNotReady,

    /// <summary>The admission queue is full; retry after <see cref="EngineException.RetryAfter"/>.</summary>
    Overloaded,

    /// <summary>The prompt does not fit the context of one sequence.</summary>
    PromptTooLong,

    /// <summary>The engine is draining or stopped and accepts no new work.</summary>
    ShuttingDown,

    /// <summary>The native backend failed while decoding; the request was dropped, the engine keeps serving.</summary>
    BackendFailure,
}
