namespace SovereignInference.Gguf;

/// <summary>Maps <c>general.file_type</c> (llama.cpp's <c>enum llama_ftype</c>) to the usual quantization names.</summary>
public static class LlamaFileType
{
    /// <summary>All tensors F32.</summary>
    public const int AllF32 = 0;
    /// <summary>Mostly F16.</summary>
    public const int MostlyF16 = 1;
    /// <summary>Mostly Q8_0.</summary>
    public const int MostlyQ8_0 = 7;
    /// <summary>Mostly BF16.</summary>
    public const int MostlyBF16 = 32;

    private static readonly Dictionary<long, string> Names = new()
    {
        [0] = "F32",
        [1] = "F16",
        [2] = "Q4_0",
        [3] = "Q4_1",
        [7] = "Q8_0",
        [8] = "Q5_0",
        [9] = "Q5_1",
        [10] = "Q2_K",
        [11] = "Q3_K_S",
        [12] = "Q3_K_M",
        [13] = "Q3_K_L",
        [14] = "Q4_K_S",
        [15] = "Q4_K_M",
        [16] = "Q5_K_S",
        [17] = "Q5_K_M",
        [18] = "Q6_K",
        [19] = "IQ2_XXS",
        [20] = "IQ2_XS",
        [21] = "Q2_K_S",
        [22] = "IQ3_XS",
        [23] = "IQ3_XXS",
        [24] = "IQ1_S",
        [25] = "IQ4_NL",
        [26] = "IQ3_S",
        [27] = "IQ3_M",
        [28] = "IQ2_S",
        [29] = "IQ2_M",
        [30] = "IQ4_XS",
        [31] = "IQ1_M",
        [32] = "BF16",
        [36] = "TQ1_0",
        [37] = "TQ2_0",
        [38] = "MXFP4_MOE",
    };

    /// <summary>The name for a file type id, or null if unknown.</summary>
    public static string? GetName(long fileType) => Names.TryGetValue(fileType & ~1024L, out var name) ? name : null;

    /// <summary>The <c>general.file_type</c> a generator should record for files whose weights are mostly <paramref name="type"/>.</summary>
    public static int ForTensorType(GgmlType type) => type switch
    {
        GgmlType.F32 => AllF32,
        GgmlType.F16 => MostlyF16,
        GgmlType.Q8_0 => MostlyQ8_0,
        GgmlType.BF16 => MostlyBF16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No file type for this tensor type."),
    };
}
