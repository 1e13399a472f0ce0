using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Gguf;

namespace SovereignInference.Engine.Hosting;

/// <summary>A configured model: where it comes from, its state, and once ready its scheduler and tokenizer.</summary>
public sealed class ModelEntry(string id, string path)
{
    private volatile ModelState _state = ModelState.Pending;

    public string Id { get; } = id;

    public string Path { get; } = path;

    public ModelState State
    {
        get => _state;
        internal set => _state = value;
    }

    /// <summary>Why the model failed, naming the file and the reason.</summary>
    public string? Error { get; internal set; }

    /// <summary>Header facts (architecture, sizes, SHA-256) once validated.</summary>
    public GgufModelInfo? Info { get; internal set; }

    public MemoryPlan? Plan { get; internal set; }

    /// <summary>When the model became ready (Unix seconds), for /v1/models "created".</summary>
    public long LoadedAtUnixSeconds { get; internal set; }

    public ModelScheduler? Scheduler { get; internal set; }

    public ITokenizer? Tokenizer { get; internal set; }

    /// <summary>How its conversations become prompts (chosen at load from --chat-template or the GGUF); null before.</summary>
    public Chat.ChatTemplateChoice? ChatTemplate { get; internal set; }

    /// <summary>Whether this model serves embeddings (it is listed in <see cref="EngineOptions.Embeddings"/> and loaded).</summary>
    public bool SupportsEmbeddings => Embedder is not null;

    internal LoadedModel? Loaded { get; set; }

    internal EmbeddingWorker? Embedder { get; set; }
}
