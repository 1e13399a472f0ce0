using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// Engine configuration. The server binds it from the command line, appsettings.json and environment
/// variables (section "Sovereign"); every property has the same name there.
/// </summary>
public sealed class EngineOptions
{
    /// <summary>Directory scanned for *.gguf files.</summary>
    public string ModelsDir { get; set; } = "./models";

    /// <summary>Explicit model files, in addition to the directory.</summary>
    public List<string> Model { get; set; } = [];

    /// <summary>Model id aliases: file name (with or without .gguf) → id.</summary>
    public Dictionary<string, string> Aliases { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Sequence slots per model (requests decoded together).</summary>
    public int Parallel { get; set; } = 4;

    /// <summary>Tokens one sequence may hold (prompt + output). 0 = the model's trained context, capped at 8192.</summary>
    public int CtxSize { get; set; }

    /// <summary>Most tokens in one decode call.</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Prompt tokens fed per step across all sequences (chunked prefill budget).</summary>
    public int PrefillChunk { get; set; } = 512;

    /// <summary>While sequences generate, a step with prompt chunks may take at most this many times a decode-only step (0 = fixed chunks).</summary>
    public double MaxStepFactor { get; set; } = 4;

    /// <summary>Requests that may wait for a slot before callers get Overloaded.</summary>
    public int QueueCapacity { get; set; } = 64;

    /// <summary>Layers offloaded to the GPU (0 = CPU only, -1 = all).</summary>
    public int GpuLayers { get; set; }

    /// <summary>Flash attention: true, false, or null to let llama.cpp decide (it needs it for a quantized V cache).</summary>
    public bool? FlashAttn { get; set; }

    /// <summary>
    /// Map the GGUF file (llama.cpp's default, llama-server's <c>--mmap</c>) instead of reading the weights into the
    /// worker's own memory. Off by default: weights read into memory sit in transparent huge pages (a worker starts with
    /// glibc's <c>glibc.malloc.hugetlb=1</c>): llama-bench decodes 1.1-1.2x faster that way than over the file's 4 KiB
    /// page-cache pages, our server at one stream ~1.05x (docs/performance.md). Mapping loads faster and shares the page
    /// cache between processes.
    /// </summary>
    public bool Mmap { get; set; }

    /// <summary>KV cache element type: f16, q8_0 or q4_0 (f32 for exact numerics in tests).</summary>
    public string KvType { get; set; } = "f16";

    /// <summary>Directory with a self-built llama.cpp (libllama + ggml) to load instead of the packaged one.</summary>
    public string? NativeLibDir { get; set; }

    /// <summary>Decode threads (0 = number of cores).</summary>
    public int Threads { get; set; }

    /// <summary>
    /// Model ids that also serve embeddings (config <c>Sovereign:Embeddings:0=id</c>): each gets a second
    /// llama.cpp context with mean pooling, owned by its own worker thread.
    /// </summary>
    public List<string> Embeddings { get; set; } = [];

    /// <summary>
    /// Chat template for every model (<c>--chat-template NAME|FILE</c>): a name such as mistral-v7-tekken or chatml,
    /// or a file holding a Jinja template. Null: each model's GGUF template.
    /// </summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Chat template per model id (<c>--chat-template ID=NAME|FILE</c>, config <c>Sovereign:ChatTemplates:ID</c>); wins over <see cref="ChatTemplate"/>.</summary>
    public Dictionary<string, string> ChatTemplates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The configured chat template of a model (NAME or FILE), or null for its GGUF's.</summary>
    public string? ChatTemplateFor(string modelId) => ChatTemplates.TryGetValue(modelId, out var t) && !string.IsNullOrWhiteSpace(t) ? t : ChatTemplate;

    /// <summary>Generate a demo model into <see cref="ModelsDir"/> when no model is configured.</summary>
    public bool DemoModelWhenEmpty { get; set; } = true;

    /// <summary>
    /// Fair-share admission weight per user (API key name): admissions per round while several users wait.
    /// Users not listed weigh 1. The server fills it from Sovereign:ApiKeys:N:Priority.
    /// </summary>
    public Dictionary<string, int> UserPriorities { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Where a loaded model runs: "process" (its own worker process; a native crash takes down only that model) or
    /// "inprocess" (inside the server, as before). `sovereign serve` defaults to process.
    /// </summary>
    public string Isolation { get; set; } = "inprocess";

    /// <summary>
    /// Load models on their first request (and pinned / <see cref="Preload"/> ones at start) instead of all at start.
    /// `sovereign serve` defaults to true.
    /// </summary>
    public bool LoadOnDemand { get; set; }

    /// <summary>Model ids loaded at start (<c>--preload ID</c>); "*" loads every model.</summary>
    public List<string> Preload { get; set; } = [];

    /// <summary>Idle time before a loaded model is unloaded (Ollama's keep_alive: "5m", seconds, 0, negative = never).</summary>
    public string KeepAlive { get; set; } = "5m";

    /// <summary>
    /// Memory all loaded models may occupy, per device: one amount for RAM and every GPU (bytes such as 8G, 512M, or a
    /// percentage of what the device has free at start), or a list by device (<c>ram=16G,gpu0=70G,gpu1=90%</c>; <c>gpu=</c>
    /// for every GPU); a device left out: what it has free at start less 10%.
    /// </summary>
    public string? MemoryBudget { get; set; }

    /// <summary>Seconds between rescans of <see cref="ModelsDir"/> for added, changed or removed files (0 = no rescans).</summary>
    public double RescanSeconds { get; set; } = 2;

    /// <summary>Per-model settings by id (<c>Sovereign:Models:ID:Parallel</c>, CtxSize, KvType, GpuLayers, ChatTemplate, Aliases, Pinned, KeepAlive).</summary>
    public Dictionary<string, Models.ModelSettings> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The settings of <paramref name="modelId"/> with every unset value taken from the global options.</summary>
    public Models.ModelSettings SettingsFor(string modelId)
    {
        Models.TryGetValue(modelId, out var own);
        return new Models.ModelSettings
        {
            Parallel = own?.Parallel ?? Parallel,
            CtxSize = own?.CtxSize ?? CtxSize,
            KvType = own?.KvType ?? KvType,
            GpuLayers = own?.GpuLayers ?? GpuLayers,
            ChatTemplate = own?.ChatTemplate ?? ChatTemplateFor(modelId),
            Aliases = own?.Aliases ?? [],
            Pinned = own?.Pinned ?? false,
            KeepAlive = own?.KeepAlive ?? KeepAlive,
        };
    }

    public static readonly IReadOnlyList<string> KvTypes = ["f16", "q8_0", "q4_0", "f32"];

    /// <summary>Throws <see cref="SettingException"/> naming every problem <see cref="Validate"/> finds.</summary>
    public void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new SettingException("invalid engine options: " + string.Join("; ", problems), "options");
        }
    }

    /// <summary>Checks ranges; returns the problems found (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Parallel is < 1 or > 256)
        {
            errors.Add($"parallel must be 1..256 (got {Parallel})");
        }

        if (CtxSize is < 0 or > 1_048_576)
        {
            errors.Add($"ctx-size must be 0..1048576 (got {CtxSize})");
        }

        if (BatchSize is < 1 or > 65_536)
        {
            errors.Add($"batch-size must be 1..65536 (got {BatchSize})");
        }

        if (PrefillChunk < 1)
        {
            errors.Add($"prefill-chunk must be at least 1 (got {PrefillChunk})");
        }

        if (!(MaxStepFactor == 0 || (MaxStepFactor > 1 && MaxStepFactor <= 1000)))
        {
            errors.Add($"max-step-factor must be 0 (off) or above 1 (got {MaxStepFactor.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        }

        if (QueueCapacity < 1)
        {
            errors.Add($"queue-capacity must be at least 1 (got {QueueCapacity})");
        }

        if (GpuLayers < -1)
        {
            errors.Add($"gpu-layers must be -1 (all) or more (got {GpuLayers})");
        }

        if (!KvTypes.Contains(KvType))
        {
            errors.Add($"kv-type must be one of {string.Join(", ", KvTypes)} (got '{KvType}')");
        }

        if (Threads < 0)
        {
            errors.Add($"threads must be 0 (auto) or more (got {Threads})");
        }

        if (Isolation is not ("process" or "inprocess"))
        {
            errors.Add($"isolation must be process or inprocess (got '{Isolation}')");
        }

        if (!SovereignInference.Engine.Models.KeepAlive.TryParse(KeepAlive, out _))
        {
            errors.Add($"keep-alive must be a duration such as 5m or 90s, or seconds (got '{KeepAlive}')");
        }

        if (RescanSeconds < 0)
        {
            errors.Add($"rescan-seconds must be 0 (off) or more (got {RescanSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        }

        try
        {
            SovereignInference.Engine.Models.MemoryBudget.Parse(MemoryBudget);
        }
        catch (ArgumentException ex)
        {
            errors.Add(ex.Message);
        }

        foreach (var (id, settings) in Models)
        {
            if (settings.Parallel is < 1 or > 256)
            {
                errors.Add($"Models:{id}:Parallel must be 1..256 (got {settings.Parallel})");
            }

            if (settings.CtxSize is < 0 or > 1_048_576)
            {
                errors.Add($"Models:{id}:CtxSize must be 0..1048576 (got {settings.CtxSize})");
            }

            if (settings.KvType is { } kv && !KvTypes.Contains(kv))
            {
                errors.Add($"Models:{id}:KvType must be one of {string.Join(", ", KvTypes)} (got '{kv}')");
            }

            if (settings.GpuLayers < -1)
            {
                errors.Add($"Models:{id}:GpuLayers must be -1 (all) or more (got {settings.GpuLayers})");
            }

            if (settings.KeepAlive is { } keep && !SovereignInference.Engine.Models.KeepAlive.TryParse(keep, out _))
            {
                errors.Add($"Models:{id}:KeepAlive must be a duration such as 5m or 90s, or seconds (got '{keep}')");
            }
        }

        return errors;
    }
}
