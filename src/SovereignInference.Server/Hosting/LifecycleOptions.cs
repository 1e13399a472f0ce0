namespace SovereignInference.Server.Hosting;

/// <summary>Shutdown settings (section "Sovereign").</summary>
public sealed class LifecycleOptions
{
    /// <summary>
    /// On SIGTERM, how long generations in flight may run on before they are cancelled (default 30).
    /// Kubernetes' terminationGracePeriodSeconds should exceed it (the host adds 10 s for the rest).
    /// </summary>
    public int DrainTimeoutSeconds { get; set; } = 30;

    public TimeSpan DrainTimeout => TimeSpan.FromSeconds(DrainTimeoutSeconds);
}
