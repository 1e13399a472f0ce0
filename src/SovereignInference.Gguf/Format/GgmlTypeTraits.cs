namespace SovereignInference.Gguf;

/// <summary>Block layout of a ggml type: <see cref="BlockSize"/> elements are stored in <see cref="TypeSize"/> bytes.</summary>
/// <param name="Type">The type.</param>
/// <param name="Name">ggml's name for the type, e.g. <c>q8_0</c>.</param>
/// <param name="BlockSize">Elements per block (ggml <c>blck_size</c>).</param>
/// <param name="TypeSize">Bytes per block (ggml <c>type_size</c>).</param>
public readonly record struct GgmlTypeTraits(GgmlType Type, string Name, int BlockSize, int TypeSize)
{
    private const int QK_K = 256;

    private static readonly Dictionary<GgmlType, GgmlTypeTraits> Table = new GgmlTypeTraits[]
    {
        new(GgmlType.F32, "f32", 1, 4),
        new(GgmlType.F16, "f16", 1, 2),
        new(GgmlType.Q4_0, "q4_0", 32, 2 + 16),
        new(GgmlType.Q4_1, "q4_1", 32, 2 + 2 + 16),
        new(GgmlType.Q5_0, "q5_0", 32, 2 + 4 + 16),
        new(GgmlType.Q5_1, "q5_1", 32, 2 + 2 + 4 + 16),
        new(GgmlType.Q8_0, "q8_0", 32, 2 + 32),
        new(GgmlType.Q8_1, "q8_1", 32, 2 + 2 + 32),
        new(GgmlType.Q2_K, "q2_K", QK_K, (QK_K / 16) + (QK_K / 4) + 2 + 2),
        new(GgmlType.Q3_K, "q3_K", QK_K, (QK_K / 8) + (QK_K / 4) + 12 + 2),
        new(GgmlType.Q4_K, "q4_K", QK_K, 2 + 2 + 12 + (QK_K / 2)),
        new(GgmlType.Q5_K, "q5_K", QK_K, 2 + 2 + 12 + (QK_K / 8) + (QK_K / 2)),
        new(GgmlType.Q6_K, "q6_K", QK_K, (QK_K / 2) + (QK_K / 4) + (QK_K / 16) + 2),
        new(GgmlType.Q8_K, "q8_K", QK_K, 4 + QK_K + (QK_K / 16 * 2)),
        new(GgmlType.IQ2_XXS, "iq2_xxs", QK_K, 2 + (QK_K / 8 * 2)),
        new(GgmlType.IQ2_XS, "iq2_xs", QK_K, 2 + (QK_K / 8 * 2) + (QK_K / 32)),
        new(GgmlType.IQ3_XXS, "iq3_xxs", QK_K, 2 + (3 * QK_K / 8)),
        new(GgmlType.IQ1_S, "iq1_s", QK_K, 2 + (QK_K / 8) + (QK_K / 32 * 2)),
        new(GgmlType.IQ4_NL, "iq4_nl", 32, 2 + 16),
        new(GgmlType.IQ3_S, "iq3_s", QK_K, 2 + (QK_K / 4) + (QK_K / 32) + (QK_K / 8) + (QK_K / 64)),
        new(GgmlType.IQ2_S, "iq2_s", QK_K, 2 + (QK_K / 4) + (QK_K / 32) + (QK_K / 32)),
        new(GgmlType.IQ4_XS, "iq4_xs", QK_K, 2 + 2 + (QK_K / 64) + (QK_K / 2)),
        new(GgmlType.I8, "i8", 1, 1),
        new(GgmlType.I16, "i16", 1, 2),
        new(GgmlType.I32, "i32", 1, 4),
        new(GgmlType.I64, "i64", 1, 8),
        new(GgmlType.F64, "f64", 1, 8),
        new(GgmlType.IQ1_M, "iq1_m", QK_K, (QK_K / 8) + (QK_K / 16) + (QK_K / 32)),
        new(GgmlType.BF16, "bf16", 1, 2),
        new(GgmlType.TQ1_0, "tq1_0", QK_K, ((QK_K - (4 * QK_K / 64)) / 5) + (QK_K / 64) + 2),
        new(GgmlType.TQ2_0, "tq2_0", QK_K, (QK_K / 4) + 2),
        new(GgmlType.MXFP4, "mxfp4", 32, 1 + 16),
    }.ToDictionary(t => t.Type);

    /// <summary>All types this library knows the layout of.</summary>
    public static IReadOnlyCollection<GgmlTypeTraits> All => Table.Values;

    /// <summary>Looks up the layout of <paramref name="type"/>; false for unknown or removed ids.</summary>
    public static bool TryGet(GgmlType type, out GgmlTypeTraits traits) => Table.TryGetValue(type, out traits);

    /// <summary>Layout of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The type is unknown.</exception>
    public static GgmlTypeTraits Get(GgmlType type) =>
        Table.TryGetValue(type, out var traits)
            ? traits
            : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type.");

    /// <summary>
    /// Bytes needed for <paramref name="elements"/> elements whose first dimension is a multiple of the block size.
    /// Returns false if the count is not block aligned or the size overflows.
    /// </summary>
    public bool TryGetByteSize(ulong elements, out ulong bytes)
    {
        bytes = 0;
        if (elements % (ulong)BlockSize != 0)
        {
            return false;
        }

        var blocks = elements / (ulong)BlockSize;
        if (blocks > ulong.MaxValue / (ulong)TypeSize)
        {
            return false;
        }

        bytes = blocks * (ulong)TypeSize;
        return true;
    }
}
