using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

/// <summary>
/// Structurally valid GGUF files that are not safe models: each is the real generated tiny llama model (2 layers,
/// n_embd 128, 4 heads, 2 KV heads, n_ff 256, F16) with exactly one metadata value or tensor changed. Each case names the
/// <see cref="GgufError"/> the model validator must report and a text its reason must contain (the key or tensor).
/// The first four are the reproductions of the security issue that made llama.cpp abort (SIGABRT) the whole server.
/// </summary>
internal static class SemanticGgufCorpus
{
    public sealed record Case(Func<GgufMutator, GgufMutator> Mutate, GgufError Expected, string Mentions);

    private const GgufError Hp = GgufError.InvalidHyperparameter;
    private const GgufError Vocab = GgufError.InvalidVocabulary;

    private static readonly Lazy<byte[]> BaseBytes = new(() => File.ReadAllBytes(TestModels.Tiny(GgmlType.F16).Path));

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // The issue's reproductions: GGML_ASSERT aborts in load_hparams, and eps >= 0 on the first decode.
        ["block-count-0"] = new(m => m.Set("llama.block_count", U32(0)), Hp, "llama.block_count"),
        ["expert-count-100000"] = new(m => m.Set("llama.expert_count", U32(100_000)), Hp, "llama.expert_count"),
        ["expert-used-without-experts"] = new(m => m.Set("llama.expert_used_count", U32(2)), Hp, "llama.expert_used_count"),
        ["rms-epsilon-nan"] = new(m => m.Set("llama.attention.layer_norm_rms_epsilon", F32(float.NaN)), Hp, "layer_norm_rms_epsilon"),
        ["context-length-0"] = new(m => m.Set("llama.context_length", U32(0)), Hp, "llama.context_length"),

        // Layers.
        ["block-count-513"] = new(m => m.Set("llama.block_count", U32(513)), Hp, "llama.block_count"),
        ["block-count-max-uint"] = new(m => m.Set("llama.block_count", U32(uint.MaxValue)), Hp, "llama.block_count"),
        ["block-count-missing"] = new(m => m.Remove("llama.block_count"), Hp, "llama.block_count"),
        ["block-count-int32"] = new(m => m.Set("llama.block_count", GgufValue.FromInt32(2)), Hp, "llama.block_count"),
        ["block-count-3-with-2-layers-of-tensors"] = new(m => m.Set("llama.block_count", U32(3)), GgufError.MissingTensor, "blk.2."),
        ["nextn-layers-exceed-blocks"] = new(m => m.Set("llama.nextn_predict_layers", U32(3)), Hp, "nextn_predict_layers"),

        // Context and embedding.
        ["context-length-missing"] = new(m => m.Remove("llama.context_length"), Hp, "llama.context_length"),
        ["context-length-float"] = new(m => m.Set("llama.context_length", F32(4096)), Hp, "llama.context_length"),
        ["embedding-length-0"] = new(m => m.Set("llama.embedding_length", U32(0)), Hp, "llama.embedding_length"),
        ["embedding-length-missing"] = new(m => m.Remove("llama.embedding_length"), Hp, "llama.embedding_length"),
        ["embedding-length-not-divisible-by-heads"] = new(m => m.Set("llama.embedding_length", U32(130)), Hp, "llama.embedding_length"),

        // Heads.
        ["head-count-0"] = new(m => m.Set("llama.attention.head_count", U32(0)), Hp, "llama.attention.head_count"),
        ["head-count-missing"] = new(m => m.Remove("llama.attention.head_count"), Hp, "llama.attention.head_count"),
        ["head-count-kv-0"] = new(m => m.Set("llama.attention.head_count_kv", U32(0)), Hp, "head_count_kv"),
        ["head-count-kv-not-dividing-heads"] = new(m => m.Set("llama.attention.head_count_kv", U32(3)), Hp, "head_count_kv"),
        ["head-count-kv-above-heads"] = new(m => m.Set("llama.attention.head_count_kv", U32(8)), Hp, "head_count_kv"),
        ["head-count-per-layer-too-short"] = new(m => m.Set("llama.attention.head_count", GgufValue.FromInt32Array([4])), Hp, "llama.attention.head_count"),
        ["head-count-per-layer-too-long"] = new(m => m.Set("llama.attention.head_count", GgufValue.FromInt32Array([4, 4, 4])), Hp, "llama.attention.head_count"),
        ["head-count-per-layer-float-array"] = new(m => m.Set("llama.attention.head_count", GgufValue.FromFloat32Array([4f, 4f])), Hp, "llama.attention.head_count"),
        ["head-count-kv-per-layer-negative"] = new(m => m.Set("llama.attention.head_count_kv", GgufValue.FromInt32Array([2, -2])), Hp, "head_count_kv"),
        ["head-count-per-layer-0-in-layer-1"] = new(m => m.Set("llama.attention.head_count", GgufValue.FromUInt32Array([4, 0])), Hp, "layer 1"),
        ["key-length-differs-from-value-length"] = new(m => m.Set("llama.attention.key_length", U32(32)).Set("llama.attention.value_length", U32(16)), Hp, "value_length"),
        ["key-length-0"] = new(m => m.Set("llama.attention.key_length", U32(0)).Set("llama.attention.value_length", U32(0)), Hp, "key_length"),

        // Feed-forward.
        ["feed-forward-length-0"] = new(m => m.Set("llama.feed_forward_length", U32(0)), Hp, "feed_forward_length"),
        ["feed-forward-length-missing"] = new(m => m.Remove("llama.feed_forward_length"), Hp, "feed_forward_length"),
        ["feed-forward-per-layer-wrong-length"] = new(m => m.Set("llama.feed_forward_length", GgufValue.FromUInt32Array([256, 256, 256, 256])), Hp, "feed_forward_length"),
        ["feed-forward-string-array"] = new(m => m.Set("llama.feed_forward_length", GgufValue.FromStringArray(["256", "256"])), Hp, "feed_forward_length"),

        // Experts.
        ["expert-count-513"] = new(m => m.Set("llama.expert_count", U32(513)), Hp, "llama.expert_count"),
        ["expert-used-exceeds-count"] = new(m => m.Set("llama.expert_count", U32(4)).Set("llama.expert_used_count", U32(8)), Hp, "expert_used_count"),
        ["experts-but-none-used"] = new(m => m.Set("llama.expert_count", U32(4)), Hp, "expert_used_count"),
        ["expert-groups-without-experts"] = new(m => m.Set("llama.expert_group_count", U32(2)), Hp, "expert_group_count"),
        ["moe-without-expert-tensors"] = new(m => m.Set("llama.expert_count", U32(4)).Set("llama.expert_used_count", U32(2)), GgufError.MissingTensor, "ffn_gate_inp"),

        // RoPE.
        ["rope-dimension-count-mismatch"] = new(m => m.Set("llama.rope.dimension_count", U32(16)), Hp, "rope.dimension_count"),
        ["rope-dimension-count-0"] = new(m => m.Set("llama.rope.dimension_count", U32(0)), Hp, "rope.dimension_count"),
        ["rope-freq-base-0"] = new(m => m.Set("llama.rope.freq_base", F32(0)), Hp, "rope.freq_base"),
        ["rope-freq-base-nan"] = new(m => m.Set("llama.rope.freq_base", F32(float.NaN)), Hp, "rope.freq_base"),
        ["rope-freq-base-negative"] = new(m => m.Set("llama.rope.freq_base", F32(-10000)), Hp, "rope.freq_base"),
        ["rope-freq-base-infinite"] = new(m => m.Set("llama.rope.freq_base", F32(float.PositiveInfinity)), Hp, "rope.freq_base"),
        ["rope-scaling-type-unknown"] = new(m => m.Set("llama.rope.scaling.type", GgufValue.FromString("ntk-magic")), Hp, "rope.scaling.type"),
        ["rope-scaling-factor-negative"] = new(m => m.Set("llama.rope.scaling.factor", F32(-2)), Hp, "rope.scaling.factor"),
        ["rope-scaling-factor-nan"] = new(m => m.Set("llama.rope.scaling.factor", F32(float.NaN)), Hp, "rope.scaling.factor"),
        ["rope-scale-linear-infinite"] = new(m => m.Set("llama.rope.scale_linear", F32(float.PositiveInfinity)), Hp, "rope.scale_linear"),
        ["rope-attn-factor-0"] = new(m => m.Set("llama.rope.scaling.attn_factor", F32(0)), Hp, "attn_factor"),
        ["rope-original-context-0"] = new(m => m.Set("llama.rope.scaling.original_context_length", U32(0)), Hp, "original_context_length"),

        // Norm and other floats.
        ["rms-epsilon-infinite"] = new(m => m.Set("llama.attention.layer_norm_rms_epsilon", F32(float.PositiveInfinity)), Hp, "layer_norm_rms_epsilon"),
        ["rms-epsilon-negative"] = new(m => m.Set("llama.attention.layer_norm_rms_epsilon", F32(-1e-5f)), Hp, "layer_norm_rms_epsilon"),
        ["rms-epsilon-missing"] = new(m => m.Remove("llama.attention.layer_norm_rms_epsilon"), Hp, "layer_norm_rms_epsilon"),
        ["rms-epsilon-float64"] = new(m => m.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat64(1e-5)), Hp, "layer_norm_rms_epsilon"),
        ["unknown-float-hyperparameter-nan"] = new(m => m.Set("llama.attention.temperature_scale", F32(float.NaN)), Hp, "temperature_scale"),
        ["file-type-negative-int64"] = new(m => m.Set("general.file_type", GgufValue.FromInt64(-1)), Hp, "general.file_type"),
        ["file-type-out-of-range"] = new(m => m.Set("general.file_type", U32(5000)), Hp, "general.file_type"),

        // Architecture.
        ["architecture-unknown"] = new(m => m.Set("general.architecture", GgufValue.FromString("llama-9000")), GgufError.UnsupportedArchitecture, "llama-9000"),
        ["architecture-gptj"] = new(m => m.Set("general.architecture", GgufValue.FromString("gptj")), GgufError.UnsupportedArchitecture, "gptj"),
        ["architecture-missing"] = new(m => m.Remove("general.architecture"), GgufError.UnsupportedArchitecture, "general.architecture"),

        // Vocabulary.
        ["tokenizer-model-unknown"] = new(m => m.Set("tokenizer.ggml.model", GgufValue.FromString("sentencepiece-v9")), Vocab, "sentencepiece-v9"),
        ["tokenizer-model-no-vocab"] = new(m => m.Set("tokenizer.ggml.model", GgufValue.FromString("no_vocab")), Vocab, "no_vocab"),
        ["tokenizer-model-missing"] = new(m => m.Remove("tokenizer.ggml.model"), Vocab, "tokenizer.ggml.model"),
        ["tokenizer-switched-to-gpt2"] = new(m => m.Set("tokenizer.ggml.model", GgufValue.FromString("gpt2")), Vocab, "token"),
        ["tokens-missing"] = new(m => m.Remove("tokenizer.ggml.tokens").Remove("tokenizer.ggml.scores").Remove("tokenizer.ggml.token_type"), Vocab, "tokenizer.ggml.tokens"),
        ["tokens-empty"] = new(m => m.Set("tokenizer.ggml.tokens", GgufValue.FromStringArray([])).Remove("tokenizer.ggml.scores").Remove("tokenizer.ggml.token_type"), Vocab, "tokenizer.ggml.tokens"),
        ["token-duplicated"] = new(m => EditTokens(m, t => t[^1] = t[^2]), Vocab, "duplicates"),
        ["byte-fallback-token-missing"] = new(m => EditTokens(m, t => t[VocabularyBuilder.FirstByteTokenId + 0x41] = "byte-A", types: ty => ty[VocabularyBuilder.FirstByteTokenId + 0x41] = 1), Vocab, "<0x41>"),
        ["byte-type-on-a-text-token"] = new(m => EditTokens(m, types: ty => ty[^1] = 6), Vocab, "BYTE"),
        ["token-type-out-of-range"] = new(m => EditTokens(m, types: ty => ty[^1] = 7), Vocab, "token type 7"),
        ["token-type-negative"] = new(m => EditTokens(m, types: ty => ty[^1] = -1), Vocab, "token type -1"),
        ["token-score-nan"] = new(m => m.Set("tokenizer.ggml.scores", GgufValue.FromFloat32Array([.. m.Get("tokenizer.ggml.scores").AsArray<float>().Select((s, i) => i == 300 ? float.NaN : s)])), Vocab, "score"),
        ["vocab-size-mismatch"] = new(m => m.Set("llama.vocab_size", U32((uint)TokenCount + 1)), Vocab, "llama.vocab_size"),
        ["bos-id-out-of-range"] = new(m => m.Set("tokenizer.ggml.bos_token_id", U32((uint)TokenCount)), Vocab, "bos_token_id"),
        ["eos-id-out-of-range"] = new(m => m.Set("tokenizer.ggml.eos_token_id", U32(1_000_000)), Vocab, "eos_token_id"),
        ["unk-id-out-of-range"] = new(m => m.Set("tokenizer.ggml.unknown_token_id", U32(uint.MaxValue)), Vocab, "unknown_token_id"),
        ["pad-id-out-of-range"] = new(m => m.Set("tokenizer.ggml.padding_token_id", U32((uint)TokenCount + 5)), Vocab, "padding_token_id"),
        ["eot-id-out-of-range"] = new(m => m.Set("tokenizer.ggml.eot_token_id", U32((uint)TokenCount)), Vocab, "eot_token_id"),
        ["bos-id-int32"] = new(m => m.Set("tokenizer.ggml.bos_token_id", GgufValue.FromInt32(1)), Vocab, "bos_token_id"),
        ["add-bos-not-bool"] = new(m => m.Set("tokenizer.ggml.add_bos_token", U32(1)), Vocab, "add_bos_token"),

        // Tensors.
        ["token-embd-rows-differ-from-vocab"] = new(m => m.Reshape("token_embd.weight", 128, TokenCount - 1), GgufError.TensorShapeMismatch, "token_embd.weight"),
        ["output-rows-differ-from-vocab"] = new(m => m.Reshape("output.weight", 128, TokenCount + 1), GgufError.TensorShapeMismatch, "output.weight"),
        ["attn-q-wrong-shape"] = new(m => m.Reshape("blk.0.attn_q.weight", 128, 64), GgufError.TensorShapeMismatch, "blk.0.attn_q.weight"),
        ["attn-k-sized-for-all-heads"] = new(m => m.Reshape("blk.1.attn_k.weight", 128, 128), GgufError.TensorShapeMismatch, "blk.1.attn_k.weight"),
        ["ffn-down-transposed"] = new(m => m.Reshape("blk.1.ffn_down.weight", 128, 256), GgufError.TensorShapeMismatch, "blk.1.ffn_down.weight"),
        ["norm-with-extra-dim"] = new(m => m.Reshape("blk.0.attn_norm.weight", 128, 2), GgufError.TensorShapeMismatch, "blk.0.attn_norm.weight"),
        ["token-embd-missing"] = new(m => m.RemoveTensor("token_embd.weight"), GgufError.MissingTensor, "token_embd.weight"),
        ["output-norm-missing"] = new(m => m.RemoveTensor("output_norm.weight"), GgufError.MissingTensor, "output_norm.weight"),
        ["layer-1-ffn-up-missing"] = new(m => m.RemoveTensor("blk.1.ffn_up.weight"), GgufError.MissingTensor, "blk.1.ffn_up.weight"),
        ["output-norm-q8_0"] = new(m => m.Retype("output_norm.weight", GgmlType.Q8_0), GgufError.UnsupportedTensorType, "output_norm.weight"),
        ["attn-norm-f16"] = new(m => m.Retype("blk.0.attn_norm.weight", GgmlType.F16), GgufError.UnsupportedTensorType, "blk.0.attn_norm.weight"),
        ["attn-q-i32"] = new(m => m.Retype("blk.0.attn_q.weight", GgmlType.I32), GgufError.UnsupportedTensorType, "blk.0.attn_q.weight"),
        ["token-embd-f64"] = new(m => m.Retype("token_embd.weight", GgmlType.F64), GgufError.UnsupportedTensorType, "token_embd.weight"),
        ["attn-output-q8_1"] = new(m => m.Retype("blk.1.attn_output.weight", GgmlType.Q8_1), GgufError.UnsupportedTensorType, "blk.1.attn_output.weight"),
        ["layer-0-attn-v-missing"] = new(m => m.RemoveTensor("blk.0.attn_v.weight"), GgufError.MissingTensor, "blk.0.attn_v.weight"),
    };

    /// <summary>The case names; the first five are the issue's reproductions.</summary>
    public static IEnumerable<string> Names => Cases.Keys;

    /// <summary>The names of the issue's reproductions (the four aborts and context_length=0).</summary>
    public static IReadOnlyList<string> IssueReproductions { get; } =
        ["block-count-0", "expert-count-100000", "expert-used-without-experts", "rms-epsilon-nan", "context-length-0"];

    public static Case Get(string name) => Cases[name];

    /// <summary>The unmutated base: the generated tiny llama model.</summary>
    public static byte[] Base() => BaseBytes.Value;

    public static byte[] Build(string name) => Cases[name].Mutate(new GgufMutator(Base())).Build();

    private static int TokenCount => new GgufMutator(Base()).Get("tokenizer.ggml.tokens").ArrayLength;

    private static GgufValue U32(uint v) => GgufValue.FromUInt32(v);

    private static GgufValue F32(float v) => GgufValue.FromFloat32(v);

    private static GgufMutator EditTokens(GgufMutator m, Action<string[]>? tokens = null, Action<int[]>? types = null)
    {
        if (tokens is not null)
        {
            var t = m.Get("tokenizer.ggml.tokens").AsArray<string>().ToArray();
            tokens(t);
            m.Set("tokenizer.ggml.tokens", GgufValue.FromStringArray(t));
        }

        if (types is not null)
        {
            var ty = m.Get("tokenizer.ggml.token_type").AsArray<int>().ToArray();
            types(ty);
            m.Set("tokenizer.ggml.token_type", GgufValue.FromInt32Array(ty));
        }

        return m;
    }
}
