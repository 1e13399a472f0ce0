namespace SovereignInference.Engine.Abstractions;

/// <summary>Loads models into runners. Implemented once, by the project that touches the native library.</summary>
public interface IModelBackend
{
    /// <summary>Which native backend is loaded: CUDA devices with VRAM, or CPU features.</summary>
    string Description { get; }

    /// <summary>Bytes free on the device that will hold weights and KV cache (GPU memory, or RAM for CPU).</summary>
    long AvailableMemoryBytes(bool offloadToGpu);

    /// <summary>
    /// The GPUs llama.cpp offloads layers to, in its order (gpu0, gpu1, …), each with its memory free now; empty on a
    /// CPU-only machine or build. The memory budget and plan keep one account per device from this list.
    /// </summary>
    IReadOnlyList<GpuDevice> GpuDevices() => [];

    /// <summary>Loads a model file that has already passed managed GGUF validation.</summary>
    LoadedModel Load(ModelLoadSpec spec);

    /// <summary>
    /// Loads only the vocabulary of a model file (no weights, no context): the tokenizer the server keeps while the
    /// model runs in a worker process. Null when the backend cannot; the model then runs in process.
    /// </summary>
    LoadedVocabulary? LoadVocabulary(string path) => null;
}

/// <summary>One GPU: its index among the GPUs the backend uses (the "gpuN" of --memory-budget), its name and memory.</summary>
public sealed record GpuDevice(int Index, string Name, long FreeBytes, long TotalBytes);

/// <summary>How to load one model.</summary>
public sealed record ModelLoadSpec(
    string Path,
    int SequenceContextSize,
    int Parallel,
    int BatchSize,
    int GpuLayers,
    bool? FlashAttention,
    string KvType,
    int Threads)
{
    /// <summary>Also create an embedding context (mean pooling) for <see cref="LoadedModel.Embeddings"/>.</summary>
    public bool Embeddings { get; init; }

    /// <summary>Map the file (true) or read the weights into memory (false, the default; see EngineOptions.Mmap).</summary>
    public bool Mmap { get; init; }
}

/// <summary>
/// A model loaded by a backend: its runner (one owner thread), its thread-safe tokenizer, and optionally a
/// grammar constraint factory and an embedding runner (one owner thread, separate from the runner's).
/// </summary>
public sealed class LoadedModel(
    IModelRunner runner,
    ITokenizer tokenizer,
    IDisposable? owner = null,
    IConstraintFactory? constraints = null,
    IEmbeddingRunner? embeddings = null) : IDisposable
{
    public IModelRunner Runner { get; } = runner;

    public ITokenizer Tokenizer { get; } = tokenizer;

    /// <summary>Builds grammar constraints for this model's vocabulary (null when the backend has none).</summary>
    public IConstraintFactory? Constraints { get; } = constraints;

    /// <summary>The embedding context, when the model was loaded with <see cref="ModelLoadSpec.Embeddings"/>.</summary>
    public IEmbeddingRunner? Embeddings { get; } = embeddings;

    public void Dispose()
    {
        Runner.Dispose();
        Embeddings?.Dispose();
        owner?.Dispose();
    }
}

/// <summary>A model's vocabulary loaded without its weights (the server tokenizes while the weights live in a worker).</summary>
public sealed class LoadedVocabulary(ITokenizer tokenizer, IDisposable? owner)
{
    public ITokenizer Tokenizer { get; } = tokenizer;

    public IDisposable? Owner { get; } = owner;
}
