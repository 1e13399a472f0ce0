namespace SovereignInference.Gguf;

/// <summary>
/// Checks the tensors llama.cpp's <c>create_tensors</c> makes for the llama family (<c>LLM_ARCH_LLAMA</c>,
/// <c>LLM_ARCH_MISTRAL3</c>) against the validated hyper-parameters and vocabulary size: each required tensor exists and
/// every tensor that exists has the shape llama.cpp expects (ggml dims, <c>ne[0]</c> first, trailing 1s ignored).
/// llama.cpp itself throws "tensor has wrong shape" for these; refusing them here gives the precise reason up front.
/// </summary>
internal static class LlamaTensorValidator
{
    /// <summary>Types ggml can multiply as a weight matrix (every type with a CPU dot product; not I8..I64, F64, Q8_1, Q8_K).</summary>
    private static readonly HashSet<GgmlType> MatrixTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ2_XXS, GgmlType.IQ2_XS,
        GgmlType.IQ3_XXS, GgmlType.IQ1_S, GgmlType.IQ4_NL, GgmlType.IQ3_S, GgmlType.IQ2_S, GgmlType.IQ4_XS, GgmlType.IQ1_M,
        GgmlType.TQ1_0, GgmlType.TQ2_0, GgmlType.MXFP4,
    ];

    public static void Validate(ModelMetadata m, ModelHyperparameters h, int vocab)
    {
        var e = h.EmbeddingLength;
        Require(m, "token_embd.weight", [e, vocab], $"[embedding_length {e}, vocabulary {vocab}]");
        Require(m, "output_norm.weight", [e]);
        Optional(m, "output.weight", [e, vocab], $"[embedding_length {e}, vocabulary {vocab}]");

        for (var i = 0; i < h.Layers; i++)
        {
            var q = h.HeadDimensionK * h.HeadCount[i];
            var k = h.HeadDimensionK * h.HeadCountKv[i];
            var v = h.HeadDimensionV * h.HeadCountKv[i];
            var ff = h.FeedForwardLength[i];
            var b = $"blk.{i}.";
            Require(m, b + "attn_norm.weight", [e]);
            Require(m, b + "attn_q.weight", [e, q]);
            Require(m, b + "attn_k.weight", [e, k]);
            Require(m, b + "attn_v.weight", [e, v]);
            Require(m, b + "attn_output.weight", [q, e]);
            Optional(m, b + "attn_q.bias", [q]);
            Optional(m, b + "attn_k.bias", [k]);
            Optional(m, b + "attn_v.bias", [v]);
            Optional(m, b + "attn_output.bias", [e]);
            Optional(m, b + "rope_freqs.weight", [h.RopeDimensions / 2]);
            Require(m, b + "ffn_norm.weight", [e]);
            if (h.ExpertCount == 0)
            {
                Require(m, b + "ffn_gate.weight", [e, ff]);
                Require(m, b + "ffn_down.weight", [ff, e]);
                Require(m, b + "ffn_up.weight", [e, ff]);
            }
            else
            {
                var n = h.ExpertCount;
                Require(m, b + "ffn_gate_inp.weight", [e, n]);
                Optional(m, b + "ffn_gate_exps.weight", [e, ff, n]);
                Require(m, b + "ffn_down_exps.weight", [ff, e, n]);
                Require(m, b + "ffn_up_exps.weight", [e, ff, n]);
            }
        }
    }

    private static void Require(ModelMetadata m, string name, long[] shape, string? meaning = null)
    {
        if (!m.File.TensorsByName.ContainsKey(name))
        {
            throw m.Fail(GgufError.MissingTensor, $"required tensor '{name}' (shape [{string.Join(", ", shape)}]) is missing");
        }

        Optional(m, name, shape, meaning);
    }

    private static void Optional(ModelMetadata m, string name, long[] shape, string? meaning = null)
    {
        if (!m.File.TensorsByName.TryGetValue(name, out var tensor))
        {
            return;
        }

        // Vectors (norms, biases, RoPE factors) enter element-wise ops with F32 activations; matrices enter mul_mat.
        var isVector = shape.Length == 1 && !name.StartsWith("token_embd", StringComparison.Ordinal);
        if (isVector ? tensor.Type != GgmlType.F32 : !MatrixTypes.Contains(tensor.Type))
        {
            throw m.Fail(GgufError.UnsupportedTensorType, isVector
                ? $"tensor '{name}' is {tensor.Type}; norm, bias and RoPE-factor vectors must be F32"
                : $"tensor '{name}' is {tensor.Type}, a type ggml cannot use as a weight matrix");
        }

        var actual = tensor.Dimensions;
        var rank = Math.Max(actual.Count, shape.Length);
        for (var d = 0; d < rank; d++)
        {
            var want = d < shape.Length ? shape[d] : 1;
            var have = d < actual.Count ? actual[d] : 1;
            if (want != have)
            {
                throw m.Fail(GgufError.TensorShapeMismatch,
                    $"tensor '{name}' has shape [{string.Join(", ", actual)}] but the hyper-parameters imply [{string.Join(", ", shape)}]"
                    + (meaning is null ? "" : $" = {meaning}"));
            }
        }
    }
}
