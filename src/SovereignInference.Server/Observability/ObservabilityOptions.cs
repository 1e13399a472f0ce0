namespace SovereignInference.Server.Observability;

/// <summary>Metrics, traces, logs and audit (section "Sovereign").</summary>
public sealed class ObservabilityOptions
{
    /// <summary>Prometheus endpoint settings (Sovereign:Metrics:AllowAnonymous).</summary>
    public MetricsConfig Metrics { get; set; } = new();

    /// <summary>OpenTelemetry export (Sovereign:Otlp:Endpoint); off unless an endpoint is given.</summary>
    public OtlpConfig Otlp { get; set; } = new();

    /// <summary>Structured JSON console logs (Sovereign:JsonLogs=true).</summary>
    public bool JsonLogs { get; set; }

    /// <summary>Per-request audit log (Sovereign:Audit:Path, IncludeText, RetentionDays).</summary>
    public AuditConfig Audit { get; set; } = new();
}

/// <summary>/metrics settings.</summary>
public sealed class MetricsConfig
{
    /// <summary>Serve /metrics without an API key (for a scraper inside a trusted network).</summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>OTLP exporter settings.</summary>
public sealed class OtlpConfig
{
    /// <summary>Collector endpoint, e.g. http://otel-collector:4317; empty = no export (nothing leaves the host).</summary>
    public string? Endpoint { get; set; }

    /// <summary>"grpc" (default, port 4317) or "http/protobuf" (port 4318).</summary>
    public string Protocol { get; set; } = "grpc";
}

/// <summary>Audit log settings.</summary>
public sealed class AuditConfig
{
    /// <summary>A directory for daily files (audit-yyyy-MM-dd.jsonl), or "stdout"; empty = no audit log.</summary>
    public string? Path { get; set; }

    /// <summary>Also record the prompt and the completion text.</summary>
    public bool IncludeText { get; set; }

    /// <summary>Daily files older than this many days are deleted (0 = keep forever).</summary>
    public int RetentionDays { get; set; } = 30;
}
