namespace SovereignInference.Engine.Models;

/// <summary>
/// Settings of one model by id (configuration <c>Sovereign:Models:ID:Parallel</c> and so on). Each unset value falls
/// back to the global option of the same name.
/// </summary>
public sealed class ModelSettings
{
    /// <summary>Sequence slots (requests decoded together) for this model.</summary>
    public int? Parallel { get; set; }

    /// <summary>Tokens per sequence for this model (0 = the model's trained context, capped at 8192).</summary>
    public int? CtxSize { get; set; }

    /// <summary>KV cache type for this model (f16, q8_0, q4_0, f32).</summary>
    public string? KvType { get; set; }

    /// <summary>Layers offloaded to the GPU for this model (-1 = all).</summary>
    public int? GpuLayers { get; set; }

    /// <summary>Chat template NAME|FILE for this model.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Further ids that name this model in requests.</summary>
    public List<string> Aliases { get; set; } = [];

    /// <summary>Loaded at start and never evicted or unloaded when idle.</summary>
    public bool? Pinned { get; set; }

    /// <summary>Idle time before unloading ("5m", "90s", seconds; 0 = after each request; negative = never).</summary>
    public string? KeepAlive { get; set; }
}
