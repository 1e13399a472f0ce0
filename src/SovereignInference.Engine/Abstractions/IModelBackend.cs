namespace SovereignInference.Engine.Abstractions;

/// <summary>Loads models into runners. Implemented once, by the project that touches the native library.</summary>
public interface IModelBackend
{
    /// <summary>Which native backend is loaded: CUDA devices with VRAM, or CPU features.</summary>
    string Description { get; }

    /// <summary>Bytes free on the device that will hold weights and KV cache (GPU memory, or RAM for CPU).</summary>
    long AvailableMemoryBytes(bool offloadToGpu);

    /// <summary>Loads a model file that has already passed managed GGUF validation.</summary>
    LoadedModel Load(ModelLoadSpec spec);
}

/// <summary>How to load one model.</summary>
public sealed record ModelLoadSpec(
    string Path,
    int SequenceContextSize,
    int Parallel,
    int BatchSize,
    int GpuLayers,
    bool? FlashAttention,
    string KvType,
    int Threads);

/// <summary>A model loaded by a backend: its runner (one owner thread) and its thread-safe tokenizer.</summary>
public sealed class LoadedModel(IModelRunner runner, ITokenizer tokenizer, IDisposable? owner = null) : IDisposable
{
    public IModelRunner Runner { get; } = runner;

    public ITokenizer Tokenizer { get; } = tokenizer;

    public void Dispose()
    {
        Runner.Dispose();
        owner?.Dispose();
    }
}
