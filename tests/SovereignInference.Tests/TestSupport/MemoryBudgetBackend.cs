using SovereignInference.Engine.Abstractions;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The real LLamaSharp backend reporting a fixed amount of free memory, so a memory-plan test decides what
/// fits by its own numbers instead of the host's RAM (a bigger machine would otherwise pass the plan).
/// </summary>
public sealed class MemoryBudgetBackend(long availableBytes) : IModelBackend
{
    private readonly LlamaBackend _inner = new();

    public string Description => _inner.Description;

    public long AvailableMemoryBytes(bool offloadToGpu) => availableBytes;

    public LoadedModel Load(ModelLoadSpec spec) => _inner.Load(spec);
}
