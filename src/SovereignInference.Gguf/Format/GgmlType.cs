namespace SovereignInference.Gguf;

/// <summary>
/// ggml tensor element types as stored in GGUF tensor infos (values match <c>enum ggml_type</c>).
/// Ids 4, 5, 31-33 and 36-38 were removed from ggml and are rejected.
/// </summary>
public enum GgmlType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE half float.</summary>
    F16 = 1,
    /// <summary>4-bit, blocks of 32 with one f16 scale.</summary>
    Q4_0 = 2,
    /// <summary>4-bit, blocks of 32 with f16 scale and min.</summary>
    Q4_1 = 3,
    /// <summary>5-bit, blocks of 32 with one f16 scale.</summary>
    Q5_0 = 6,
    /// <summary>5-bit, blocks of 32 with f16 scale and min.</summary>
    Q5_1 = 7,
    /// <summary>8-bit, blocks of 32 with one f16 scale.</summary>
    Q8_0 = 8,
    /// <summary>8-bit, blocks of 32 with f16 scale and sum.</summary>
    Q8_1 = 9,
    /// <summary>2-bit k-quant (super-blocks of 256).</summary>
    Q2_K = 10,
    /// <summary>3-bit k-quant.</summary>
    Q3_K = 11,
    /// <summary>4-bit k-quant.</summary>
    Q4_K = 12,
    /// <summary>5-bit k-quant.</summary>
    Q5_K = 13,
    /// <summary>6-bit k-quant.</summary>
    Q6_K = 14,
    /// <summary>8-bit k-quant (intermediate type).</summary>
    Q8_K = 15,
    /// <summary>2.06 bpw i-quant.</summary>
    IQ2_XXS = 16,
    /// <summary>2.31 bpw i-quant.</summary>
    IQ2_XS = 17,
    /// <summary>3.06 bpw i-quant.</summary>
    IQ3_XXS = 18,
    /// <summary>1.56 bpw i-quant.</summary>
    IQ1_S = 19,
    /// <summary>4-bit non-linear, blocks of 32.</summary>
    IQ4_NL = 20,
    /// <summary>3.44 bpw i-quant.</summary>
    IQ3_S = 21,
    /// <summary>2.5 bpw i-quant.</summary>
    IQ2_S = 22,
    /// <summary>4.25 bpw i-quant.</summary>
    IQ4_XS = 23,
    /// <summary>8-bit integer.</summary>
    I8 = 24,
    /// <summary>16-bit integer.</summary>
    I16 = 25,
    /// <summary>32-bit integer.</summary>
    I32 = 26,
    /// <summary>64-bit integer.</summary>
    I64 = 27,
    /// <summary>64-bit float.</summary>
    F64 = 28,
    /// <summary>1.75 bpw i-quant.</summary>
    IQ1_M = 29,
    /// <summary>bfloat16.</summary>
    BF16 = 30,
    /// <summary>Ternary 1.69 bpw.</summary>
    TQ1_0 = 34,
    /// <summary>Ternary 2.06 bpw.</summary>
    TQ2_0 = 35,
    /// <summary>Microscaling FP4, blocks of 32 with an E8M0 scale.</summary>
    MXFP4 = 39,
}
