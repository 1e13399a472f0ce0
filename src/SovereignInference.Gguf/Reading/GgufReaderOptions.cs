namespace SovereignInference.Gguf;

/// <summary>
/// Upper bounds applied while reading a GGUF header, in addition to the file-size bounds that always apply.
/// They cap how much memory a hostile header can make the reader allocate.
/// </summary>
public sealed record GgufReaderOptions
{
    /// <summary>Shared default options.</summary>
    public static GgufReaderOptions Default { get; } = new();

    /// <summary>Maximum byte length of any string (key, value, array element). Default 16 MiB.</summary>
    public long MaxStringLength { get; init; } = 16L * 1024 * 1024;

    /// <summary>Maximum number of elements in one metadata array. Default 2^24.</summary>
    public long MaxArrayLength { get; init; } = 1L << 24;

    /// <summary>Maximum number of tensors. Default 2^20.</summary>
    public long MaxTensorCount { get; init; } = 1L << 20;

    /// <summary>Maximum number of metadata key/value pairs. Default 2^20.</summary>
    public long MaxKeyValueCount { get; init; } = 1L << 20;
}
