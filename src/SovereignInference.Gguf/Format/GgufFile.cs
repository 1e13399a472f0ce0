namespace SovereignInference.Gguf;

/// <summary>
/// The validated header of a GGUF file: metadata and tensor descriptions. Tensor data stays on disk;
/// use <see cref="DataOffset"/> + <see cref="GgufTensorInfo.Offset"/> to locate it.
/// </summary>
public sealed class GgufFile
{
    /// <summary>The alignment used when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>Creates a file description (normally done by <see cref="GgufReader"/>).</summary>
    public GgufFile(
        string sourceName,
        uint version,
        IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyList<GgufTensorInfo> tensors,
        long dataOffset,
        int alignment,
        long fileSize)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);
        SourceName = sourceName;
        Version = version;
        MetadataInOrder = metadata;
        Metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Tensors = tensors;
        TensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        DataOffset = dataOffset;
        Alignment = alignment;
        FileSize = fileSize;
    }

    /// <summary>The path or stream description the file was read from.</summary>
    public string SourceName { get; }

    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder { get; }

    /// <summary>Tensor descriptions in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Tensor descriptions by name.</summary>
    public IReadOnlyDictionary<string, GgufTensorInfo> TensorsByName { get; }

    /// <summary>Absolute file offset of the (aligned) tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>Alignment of the data section and of every tensor offset.</summary>
    public int Alignment { get; }

    /// <summary>Total file size in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Gets a metadata value, or null.</summary>
    public GgufValue? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;

    /// <summary>Gets a string metadata value, or null if absent or not a string.</summary>
    public string? GetString(string key) => Get(key) is { Type: GgufValueType.String } v ? v.AsString() : null;

    /// <summary>Gets an integer metadata value, or null if absent or not an integer.</summary>
    public long? GetInt64(string key) => Get(key) is { } v && v.TryGetInt64(out var l) ? l : null;

    /// <summary>Absolute file offset of a tensor's data.</summary>
    public long GetAbsoluteOffset(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return DataOffset + tensor.Offset;
    }
}
