namespace SovereignInference.Gguf;

/// <summary>Hyper-parameters of a generated llama-architecture model.</summary>
public sealed record ModelShape
{
    /// <summary>Number of transformer blocks (<c>llama.block_count</c>).</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Embedding width n_embd (<c>llama.embedding_length</c>).</summary>
    public int EmbeddingLength { get; init; } = 128;
    /// <summary>Attention heads (<c>llama.attention.head_count</c>); must divide <see cref="EmbeddingLength"/>.</summary>
    public int HeadCount { get; init; } = 4;
    /// <summary>KV heads for grouped-query attention; must divide <see cref="HeadCount"/>.</summary>
    public int HeadCountKv { get; init; } = 2;
    /// <summary>Feed-forward width n_ff (<c>llama.feed_forward_length</c>).</summary>
    public int FeedForwardLength { get; init; } = 256;
    /// <summary>Training context length (<c>llama.context_length</c>).</summary>
    public int ContextLength { get; init; } = 4096;
    /// <summary>Storage type of the weight matrices: F32, F16 or Q8_0 (norm vectors are always F32).</summary>
    public GgmlType TensorType { get; init; } = GgmlType.F16;
    /// <summary>Seed for random weights.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>RoPE base frequency (<c>llama.rope.freq_base</c>).</summary>
    public float RopeFreqBase { get; init; } = 10000f;
    /// <summary>RMS norm epsilon (<c>llama.attention.layer_norm_rms_epsilon</c>).</summary>
    public float RmsEpsilon { get; init; } = 1e-5f;

    /// <summary>Head dimension (n_embd / n_head).</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <summary>Key/value width (head dimension * n_head_kv).</summary>
    public int EmbeddingLengthKv => HeadDimension * HeadCountKv;

    /// <summary>A fast model for tests: 2 layers, n_embd 128, F16.</summary>
    public static ModelShape Tiny { get; } = new();

    /// <summary>About 100M parameters: 12 layers, n_embd 768, n_ff 2560, F16 (for benchmarks).</summary>
    public static ModelShape Bench100M { get; } = new()
    {
        Layers = 12,
        EmbeddingLength = 768,
        HeadCount = 12,
        HeadCountKv = 12,
        FeedForwardLength = 2560,
        ContextLength = 4096,
    };

    /// <summary>Throws <see cref="ArgumentException"/> if llama.cpp would reject (or mis-handle) this shape.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException($"Invalid model shape: {message}");
            }
        }

        Require(TensorType is GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0, "tensor type must be F32, F16 or Q8_0");
        Require(Layers >= 1, "at least one layer is needed");
        Require(HeadCount >= 1 && HeadCountKv >= 1 && HeadCount % HeadCountKv == 0, "head_count must be a multiple of head_count_kv");
        Require(EmbeddingLength >= 2 && EmbeddingLength % HeadCount == 0, "embedding length must be a multiple of head_count");
        Require(HeadDimension % 2 == 0, "the head dimension must be even (RoPE rotates pairs)");
        Require(FeedForwardLength >= 1, "feed-forward length must be positive");
        Require(ContextLength >= 16, "context length must be at least 16");
        if (TensorType == GgmlType.Q8_0)
        {
            Require(EmbeddingLength % Q8_0Codec.BlockSize == 0 && FeedForwardLength % Q8_0Codec.BlockSize == 0,
                "Q8_0 needs n_embd and n_ff to be multiples of 32");
        }
    }
}
