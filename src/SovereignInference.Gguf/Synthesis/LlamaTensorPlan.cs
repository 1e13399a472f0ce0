namespace SovereignInference.Gguf;

/// <summary>Role of a tensor in a llama-architecture model.</summary>
internal enum LlamaTensorRole
{
    TokenEmbedding,
    OutputNorm,
    Output,
    AttentionNorm,
    AttentionQ,
    AttentionK,
    AttentionV,
    AttentionOutput,
    FeedForwardNorm,
    FeedForwardGate,
    FeedForwardUp,
    FeedForwardDown,
}

/// <summary>One tensor of a generated llama model: ggml dims are <c>[Columns, Rows]</c> (ne0 = columns).</summary>
internal sealed record LlamaTensorPlan(int Index, string Name, LlamaTensorRole Role, int Layer, long Columns, long Rows, GgmlType Type)
{
    public bool IsVector => Rows == 1 && Role is LlamaTensorRole.OutputNorm or LlamaTensorRole.AttentionNorm or LlamaTensorRole.FeedForwardNorm;

    /// <summary>
    /// The tensors llama.cpp's <c>LLM_ARCH_LLAMA</c> loader creates, with its expected shapes:
    /// token_embd {n_embd, n_vocab}, output {n_embd, n_vocab}, wq {n_embd, n_embd}, wk/wv {n_embd, n_embd_kv},
    /// wo {n_embd, n_embd}, ffn_gate/up {n_embd, n_ff}, ffn_down {n_ff, n_embd}, norms {n_embd} (F32).
    /// </summary>
    public static IReadOnlyList<LlamaTensorPlan> For(ModelShape shape, int vocabSize)
    {
        var e = (long)shape.EmbeddingLength;
        var kv = (long)shape.EmbeddingLengthKv;
        var ff = (long)shape.FeedForwardLength;
        var t = shape.TensorType;
        var list = new List<LlamaTensorPlan>();
        void Add(string name, LlamaTensorRole role, int layer, long cols, long rows, GgmlType type) =>
            list.Add(new LlamaTensorPlan(list.Count, name, role, layer, cols, rows, type));

        Add("token_embd.weight", LlamaTensorRole.TokenEmbedding, -1, e, vocabSize, t);
        Add("output_norm.weight", LlamaTensorRole.OutputNorm, -1, e, 1, GgmlType.F32);
        Add("output.weight", LlamaTensorRole.Output, -1, e, vocabSize, t);
        for (var i = 0; i < shape.Layers; i++)
        {
            Add($"blk.{i}.attn_norm.weight", LlamaTensorRole.AttentionNorm, i, e, 1, GgmlType.F32);
            Add($"blk.{i}.attn_q.weight", LlamaTensorRole.AttentionQ, i, e, e, t);
            Add($"blk.{i}.attn_k.weight", LlamaTensorRole.AttentionK, i, e, kv, t);
            Add($"blk.{i}.attn_v.weight", LlamaTensorRole.AttentionV, i, e, kv, t);
            Add($"blk.{i}.attn_output.weight", LlamaTensorRole.AttentionOutput, i, e, e, t);
            Add($"blk.{i}.ffn_norm.weight", LlamaTensorRole.FeedForwardNorm, i, e, 1, GgmlType.F32);
            Add($"blk.{i}.ffn_gate.weight", LlamaTensorRole.FeedForwardGate, i, e, ff, t);
            Add($"blk.{i}.ffn_up.weight", LlamaTensorRole.FeedForwardUp, i, e, ff, t);
            Add($"blk.{i}.ffn_down.weight", LlamaTensorRole.FeedForwardDown, i, ff, e, t);
        }

        return list;
    }
}
