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
    long EmbeddingKvBytes = 0,
    IReadOnlyList<Models.DeviceShare>? Devices = null)
{
    /// <summary>Headroom for compute buffers and fragmentation, as a fraction of the plan.</summary>
    public const double Overhead = 0.10;

    public long KvBytesTotal => KvBytesPerSlot * Parallel;

    public long TotalBytes => (long)((WeightBytes + KvBytesTotal + EmbeddingKvBytes) * (1 + Overhead));

    /// <summary>
    /// The estimate split by device (see <see cref="Models.MemorySplit"/>): RAM and each GPU the model's layers go to;
    /// without a split, all of it on RAM against <see cref="AvailableBytes"/>.
    /// </summary>
    public IReadOnlyList<Models.DeviceShare> DeviceShares => Devices ?? [new(Models.MemoryBudget.Ram, TotalBytes, AvailableBytes)];

    /// <summary>Bytes of the estimate on <paramref name="device"/> ("ram", "gpu0", …).</summary>
    public long BytesOn(string device) => DeviceShares.Where(d => d.Device == device).Sum(d => d.Bytes);

    /// <summary>Every device's share fits in what that device had free when planned.</summary>
    public bool Fits => DeviceShares.All(d => d.Bytes <= d.AvailableBytes);

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"weights {Format(WeightBytes)}, KV cache {Format(KvBytesPerSlot)} per slot x {Parallel} slots = {Format(KvBytesTotal)} ({SequenceContextSize} tokens/slot, {KvType}){(EmbeddingKvBytes > 0 ? $", embedding context {Format(EmbeddingKvBytes)}" : string.Empty)}, total with {Overhead:P0} headroom {Format(TotalBytes)} {Where()}");

    private string Where() => DeviceShares is [{ Device: Models.MemoryBudget.Ram } only]
        ? $"of {Format(only.AvailableBytes)} available"
        : "(" + string.Join(", ", DeviceShares.Select(d => $"{d.Device} {Format(d.Bytes)} of {Format(d.AvailableBytes)} available")) + ")";

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
    };
}
