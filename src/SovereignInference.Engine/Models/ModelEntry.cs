using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Gguf;

namespace SovereignInference.Engine.Models;

/// <summary>
/// A catalogued model: where it comes from, its header facts and memory estimate (known without loading), its
/// lifecycle state, and while loaded the instance that serves it (in this process or in a worker process).
/// </summary>
public sealed class ModelEntry(string id, string path)
{
    private volatile ModelState _state = ModelState.Pending;
    private volatile IModelInstance? _instance;

    public string Id { get; } = id;

    public string Path { get; } = path;

    public ModelState State
    {
        get => _state;
        internal set => _state = value;
    }

    /// <summary>The state as /v1/models names it: unloaded, loading, loaded or failed.</summary>
    public string Status => _state switch
    {
        ModelState.Pending => "unloaded",
        ModelState.Loading => "loading",
        ModelState.Ready => "loaded",
        _ => "failed",
    };

    /// <summary>Why the model failed, naming the file and the reason.</summary>
    public string? Error { get; internal set; }

    /// <summary>True when the file itself is unusable (invalid GGUF, duplicate id): no load is tried until the file changes.</summary>
    public bool Unloadable { get; internal set; }

    /// <summary>Header facts (architecture, sizes, SHA-256) once validated.</summary>
    public GgufModelInfo? Info { get; internal set; }

    /// <summary>The memory estimate (weights + KV + headroom), computed when catalogued.</summary>
    public MemoryPlan? Plan { get; internal set; }

    /// <summary>The settings this model loads with (global options overlaid with its per-model section).</summary>
    public ModelSettings Settings { get; internal set; } = new();

    /// <summary>Never evicted; loaded at start.</summary>
    public bool Pinned => Settings.Pinned == true;

    /// <summary>When the model became ready (Unix seconds), for /v1/models "created".</summary>
    public long LoadedAtUnixSeconds { get; internal set; }

    /// <summary>The in-process scheduler (only with --isolation inprocess; null while unloaded or in a worker).</summary>
    public ModelScheduler? Scheduler => _instance?.Scheduler;

    /// <summary>The server-side tokenizer; kept once the model has been loaded, also while it is unloaded.</summary>
    public ITokenizer? Tokenizer { get; internal set; }

    /// <summary>How its conversations become prompts (chosen at first load from --chat-template or the GGUF); null before.</summary>
    public Chat.ChatTemplateChoice? ChatTemplate { get; internal set; }

    /// <summary>Whether this model serves embeddings (configured with --embeddings).</summary>
    public bool SupportsEmbeddings { get; internal set; }

    /// <summary>Process id of the worker that serves the model while it is loaded in a worker; null otherwise.</summary>
    public int? Pid => _instance?.Pid;

    /// <summary>Tokens one sequence holds while loaded (0 before the first load).</summary>
    public int SequenceContextSize { get; internal set; }

    /// <summary>Requests using the model now (streams, embeddings); a model with any is never evicted or unloaded.</summary>
    public int ActiveRequests => Volatile.Read(ref ActiveCount);

    /// <summary>Lifetime counters for metrics: loads, unloads, evictions, crashes, and the last load's seconds.</summary>
    public ModelCounters Counters { get; } = new();

    internal int ActiveCount;

    internal IModelInstance? Instance
    {
        get => _instance;
        set => _instance = value;
    }

    internal IDisposable? TokenizerOwner { get; set; }

    /// <summary>The load in progress (shared by every request that waits for it), under <see cref="Gate"/>.</summary>
    internal Task? LoadTask { get; set; }

    internal Lock Gate { get; } = new();

    /// <summary>Stopwatch timestamp of the last request's end (LRU order).</summary>
    internal long LastUsed { get; set; }

    /// <summary>Stopwatch timestamp after which an idle loaded model is unloaded; long.MaxValue = keep.</summary>
    internal long ExpiresAt { get; set; } = long.MaxValue;

    /// <summary>Timestamps of recent crashes (worker exits and failed loads), for the 3-within-a-minute rule.</summary>
    internal Queue<long> RecentCrashes { get; } = new();

    /// <summary>File length and write time when catalogued, to notice changes.</summary>
    internal (long Length, DateTime WriteTime) FileStamp { get; set; }
}

/// <summary>Per-model lifetime counters (read by metrics).</summary>
public sealed class ModelCounters
{
    internal long LoadsValue;
    internal long UnloadsValue;
    internal long EvictionsValue;
    internal long CrashesValue;

    public long Loads => Interlocked.Read(ref LoadsValue);

    public long Unloads => Interlocked.Read(ref UnloadsValue);

    public long Evictions => Interlocked.Read(ref EvictionsValue);

    public long Crashes => Interlocked.Read(ref CrashesValue);

    /// <summary>Seconds the last successful load took.</summary>
    public double LastLoadSeconds { get; internal set; }
}
