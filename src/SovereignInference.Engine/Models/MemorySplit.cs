using SovereignInference.Engine.Abstractions;

namespace SovereignInference.Engine.Models;

/// <summary>
/// Splits a model's memory estimate across the devices it will occupy, from its gpu-layers. An approximation, stated
/// in docs/operations.md: every layer is taken to weigh the same and to hold its own share of the KV cache (llama.cpp
/// keeps a layer's KV cache on that layer's device), so the GPUs get <c>offloaded layers / layers</c> of the whole
/// estimate (weights, KV cache, headroom) and RAM the rest; token embeddings (always in RAM) and the output layer are
/// not counted apart. Across several GPUs llama.cpp's default split (LLAMA_SPLIT_MODE_LAYER with no tensor split)
/// gives each GPU layers in proportion to its free memory; so does this split. Without GPUs everything is RAM,
/// whatever gpu-layers says (a CPU build ignores it).
/// </summary>
public static class MemorySplit
{
    /// <summary>The share of the layers on the GPUs: gpu-layers &lt; 0 = all, 0 = none, N = N of <paramref name="layers"/>.</summary>
    public static double GpuFraction(int gpuLayers, long? layers) => gpuLayers switch
    {
        < 0 => 1,
        0 => 0,
        _ when layers is not > 0 => 1,
        _ => Math.Min(gpuLayers, layers.Value) / (double)layers.Value,
    };

    /// <summary>
    /// The shares of <paramref name="totalBytes"/> by device (RAM first, then each GPU), each with what that device
    /// has free now; devices that get nothing are left out. The shares add up to <paramref name="totalBytes"/>.
    /// </summary>
    public static IReadOnlyList<DeviceShare> Split(long totalBytes, double gpuFraction, long ramFree, IReadOnlyList<GpuDevice> gpus)
    {
        ArgumentNullException.ThrowIfNull(gpus);
        var onGpus = gpus.Count == 0 ? 0 : (long)Math.Round(totalBytes * Math.Clamp(gpuFraction, 0, 1));
        var shares = new List<DeviceShare>();
        if (totalBytes - onGpus > 0 || onGpus == 0)
        {
            shares.Add(new DeviceShare(MemoryBudget.Ram, totalBytes - onGpus, ramFree));
        }

        if (onGpus > 0)
        {
            var free = gpus.Sum(g => Math.Max(0, g.FreeBytes));
            var given = 0L;
            for (var i = 0; i < gpus.Count; i++)
            {
                var gpu = gpus[i];
                var bytes = i == gpus.Count - 1
                    ? onGpus - given
                    : free > 0 ? (long)(onGpus * (Math.Max(0, gpu.FreeBytes) / (double)free)) : onGpus / gpus.Count;
                given += bytes;
                if (bytes > 0)
                {
                    shares.Add(new DeviceShare(MemoryBudget.Gpu(gpu.Index), bytes, gpu.FreeBytes));
                }
            }
        }

        return shares;
    }
}

/// <summary>What a model will occupy on one device ("ram", "gpu0", …) and what that device had free when it was planned.</summary>
public sealed record DeviceShare(string Device, long Bytes, long AvailableBytes);

/// <summary>What the backend reports free now: RAM and each GPU.</summary>
public sealed record FreeMemory(long Ram, IReadOnlyList<GpuDevice> Gpus)
{
    public static FreeMemory Of(IModelBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new FreeMemory(backend.AvailableMemoryBytes(false), backend.GpuDevices());
    }
}
