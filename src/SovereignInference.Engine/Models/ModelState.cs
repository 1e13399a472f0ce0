namespace SovereignInference.Engine.Models;

/// <summary>Lifecycle of a catalogued model (see docs/operations.md, "Model lifecycle").</summary>
public enum ModelState
{
    /// <summary>Catalogued, not loaded ("unloaded"): loads on the first request, or at start when pinned or preloaded.</summary>
    Pending,

    /// <summary>Being loaded ("loading"); requests wait for it.</summary>
    Loading,

    /// <summary>Serving ("loaded").</summary>
    Ready,

    /// <summary>
    /// "failed": an invalid file (never loaded until it changes), or a load or worker that failed; see the error.
    /// A failed load or a crashed worker is retried on the next request unless it failed 3 times within a minute.
    /// </summary>
    Failed,
}
