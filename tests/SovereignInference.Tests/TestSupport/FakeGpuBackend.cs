using SovereignInference.Engine.Abstractions;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The real LLamaSharp backend (models load and run on the CPU, gpu-layers is ignored by the CPU build) reporting a
/// given amount of free RAM and a given list of GPUs, so the per-device budget, plan split and eviction run on a machine
/// without a GPU by their own numbers. Only the memory report is made up; every load and decode is llama.cpp's.
/// </summary>
public sealed class FakeGpuBackend(long ramFree, params GpuDevice[] gpus) : IModelBackend
{
    private readonly LlamaBackend _inner = new();

    public string Description => _inner.Description + $"; test: {gpus.Length} GPU(s) reported";

    public long AvailableMemoryBytes(bool offloadToGpu) => offloadToGpu && gpus.Length > 0 ? gpus.Sum(g => g.FreeBytes) : ramFree;

    public IReadOnlyList<GpuDevice> GpuDevices() => gpus;

    public LoadedModel Load(ModelLoadSpec spec) => _inner.Load(spec);

    public LoadedVocabulary? LoadVocabulary(string path) => _inner.LoadVocabulary(path);
}
