namespace SovereignInference.Server.Security;

/// <summary>Authentication and request limits (section "Sovereign", next to the engine options).</summary>
public sealed class SecurityOptions
{
    /// <summary>API keys given in configuration (Sovereign:ApiKeys:N:Name, Key or KeySha256, limits).</summary>
    public List<ApiKeyConfig> ApiKeys { get; set; } = [];

    /// <summary>A file of "name:sha256hex" lines (keys hashed at rest; '#' starts a comment).</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>Largest request body Kestrel accepts on the HTTP API (413 past it; gRPC calls are limited per message instead). Default 2 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Largest total size of request headers. Default 32 KiB (Kestrel's default).</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>Largest gRPC message the server receives. Default 4 MiB (gRPC's default).</summary>
    public int GrpcMaxReceiveBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Host names (no port) this server answers to besides localhost, 127.0.0.1 and [::1], e.g. the name of a reverse
    /// proxy in front of it. Requests that arrive on a loopback address with another Host get 400 (DNS rebinding);
    /// when the list is not empty, requests from other addresses are held to it too. "*" turns the check off.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Cross-origin access; off unless origins are listed.</summary>
    public CorsConfig Cors { get; set; } = new();
}

/// <summary>One API key in configuration. Give either <see cref="Key"/> (plain) or <see cref="KeySha256"/> (hex).</summary>
public sealed class ApiKeyConfig
{
    /// <summary>The key's name: what audit logs, metrics and fair share see (never the key itself).</summary>
    public string Name { get; set; } = "";

    /// <summary>The key in plain text (hashed when loaded).</summary>
    public string? Key { get; set; }

    /// <summary>SHA-256 of the key as 64 hex digits.</summary>
    public string? KeySha256 { get; set; }

    /// <summary>Requests per minute (0 = unlimited).</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>Requests in flight at once, streams included (0 = unlimited).</summary>
    public int MaxConcurrentStreams { get; set; }

    /// <summary>Prompt plus completion tokens per minute (0 = unlimited).</summary>
    public int TokensPerMinute { get; set; }

    /// <summary>Fair-share weight when several keys wait for a model: admissions per round (default 1).</summary>
    public int Priority { get; set; } = 1;

    /// <summary>May use the admin routes (POST /models/load, /models/unload, GET /admin/usage, /admin/audit, gRPC LoadModel, UnloadModel, WatchModels).</summary>
    public bool Admin { get; set; }
}

/// <summary>CORS settings (Sovereign:Cors:Origins:N).</summary>
public sealed class CorsConfig
{
    /// <summary>Allowed origins, e.g. https://app.example.com; empty = CORS off.</summary>
    public List<string> Origins { get; set; } = [];
}
