namespace SovereignInference.Engine.Hosting;

/// <summary>Lifecycle of a configured model.</summary>
public enum ModelState
{
    /// <summary>Configured, not loaded yet.</summary>
    Pending,

    /// <summary>Being validated and loaded.</summary>
    Loading,

    /// <summary>Serving.</summary>
    Ready,

    /// <summary>Skipped: invalid file, memory plan does not fit, or the backend refused it. See the error.</summary>
    Failed,
}
