namespace SovereignInference.Gguf;

/// <summary>Describes one tensor of a GGUF file (its data is not loaded).</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">ggml dimensions <c>ne[0..n_dims)</c>; <c>ne[0]</c> is the contiguous (row) dimension.</param>
/// <param name="Type">Element type.</param>
/// <param name="Offset">Offset of the data relative to the start of the data section (<see cref="GgufFile.DataOffset"/>).</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, long Offset)
{
    /// <summary>Number of elements (product of the dimensions).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions)
            {
                n = checked(n * d);
            }

            return n;
        }
    }

    /// <summary>Size of the tensor data in bytes.</summary>
    public long ByteSize
    {
        get
        {
            var traits = GgmlTypeTraits.Get(Type);
            return checked(ElementCount / traits.BlockSize * traits.TypeSize);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", Dimensions)}] {Type} @{Offset}";
}
