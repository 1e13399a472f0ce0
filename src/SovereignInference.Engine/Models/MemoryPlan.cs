using System.Globalization;

namespace SovereignInference.Engine.Models;

/// <summary>
/// What a model will occupy: weights plus KV cache for every slot (and for the embedding context, when the model
/// serves embeddings: one sequence of the same length, F16 cache), against what is free.
/// </summary>
public sealed record MemoryPlan(
    long WeightBytes,
    long KvBytesPerSlot,
    int Parallel,
    int SequenceContextSize,
    string KvType,
    long AvailableBytes,
    long EmbeddingKvBytes = 0)
{
    /// <summary>Headroom for compute buffers and fragmentation, as a fraction of the plan.</summary>
    public const double Overhead = 0.10;

    public long KvBytesTotal => KvBytesPerSlot * Parallel;

    public long TotalBytes => (long)((WeightBytes + KvBytesTotal + EmbeddingKvBytes) * (1 + Overhead));

    public bool Fits => TotalBytes <= AvailableBytes;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"weights {Format(WeightBytes)}, KV cache {Format(KvBytesPerSlot)} per slot x {Parallel} slots = {Format(KvBytesTotal)} ({SequenceContextSize} tokens/slot, {KvType}){(EmbeddingKvBytes > 0 ? $", embedding context {Format(EmbeddingKvBytes)}" : string.Empty)}, total with {Overhead:P0} headroom {Format(TotalBytes)} of {Format(AvailableBytes)} available");

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
    };
}
