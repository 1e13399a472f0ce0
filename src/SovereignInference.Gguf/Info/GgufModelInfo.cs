using System.Security.Cryptography;

namespace SovereignInference.Gguf;

/// <summary>
/// Model facts extracted from a validated <see cref="GgufFile"/>: architecture, shape, tokenizer, chat template,
/// sizes and (optionally) the SHA-256 of the file. Used by <c>sovereign models inspect</c> and memory planning.
/// </summary>
public sealed record GgufModelInfo
{
    /// <summary>Path of the model file.</summary>
    public required string Path { get; init; }
    /// <summary>GGUF version.</summary>
    public uint Version { get; init; }
    /// <summary>File size in bytes.</summary>
    public long FileSize { get; init; }
    /// <summary>Lower-case hex SHA-256 of the whole file, or null when not computed.</summary>
    public string? Sha256 { get; init; }
    /// <summary><c>general.architecture</c>, or "unknown".</summary>
    public required string Architecture { get; init; }
    /// <summary><c>general.name</c>, if present.</summary>
    public string? Name { get; init; }
    /// <summary>Sum of tensor element counts.</summary>
    public long ParameterCount { get; init; }
    /// <summary>Number of tensors.</summary>
    public int TensorCount { get; init; }
    /// <summary>Sum of tensor data sizes in bytes.</summary>
    public long WeightBytes { get; init; }
    /// <summary>Quantization name, from <c>general.file_type</c> or else the dominant tensor type.</summary>
    public required string Quantization { get; init; }
    /// <summary>Raw <c>general.file_type</c>, if present.</summary>
    public long? FileType { get; init; }
    /// <summary><c>{arch}.context_length</c> (training context).</summary>
    public long? ContextLength { get; init; }
    /// <summary><c>{arch}.embedding_length</c> (n_embd).</summary>
    public long? EmbeddingLength { get; init; }
    /// <summary><c>{arch}.block_count</c> (n_layer).</summary>
    public long? BlockCount { get; init; }
    /// <summary><c>{arch}.attention.head_count</c> (max over layers if per-layer).</summary>
    public long? HeadCount { get; init; }
    /// <summary><c>{arch}.attention.head_count_kv</c>, defaulting to <see cref="HeadCount"/>.</summary>
    public long? HeadCountKv { get; init; }
    /// <summary><c>{arch}.attention.key_length</c> (head dimension), if present.</summary>
    public long? KeyLength { get; init; }
    /// <summary><c>{arch}.attention.value_length</c>, if present.</summary>
    public long? ValueLength { get; init; }
    /// <summary><c>{arch}.feed_forward_length</c> (max over layers if per-layer).</summary>
    public long? FeedForwardLength { get; init; }
    /// <summary>Number of tokens in <c>tokenizer.ggml.tokens</c>.</summary>
    public int VocabSize { get; init; }
    /// <summary><c>tokenizer.ggml.model</c>, e.g. "llama" (SentencePiece) or "gpt2" (BPE).</summary>
    public string? VocabType { get; init; }
    /// <summary><c>tokenizer.ggml.bos_token_id</c>.</summary>
    public long? BosTokenId { get; init; }
    /// <summary><c>tokenizer.ggml.eos_token_id</c>.</summary>
    public long? EosTokenId { get; init; }
    /// <summary><c>tokenizer.chat_template</c>, if present.</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>Whether a chat template is embedded.</summary>
    public bool HasChatTemplate => !string.IsNullOrEmpty(ChatTemplate);

    /// <summary>Key/value width per layer (<c>n_embd / n_head * n_head_kv</c>, or key_length * n_head_kv).</summary>
    public long? EmbeddingLengthKv =>
        HeadCountKv is { } kv && (KeyLength ?? (EmbeddingLength is { } e && HeadCount is > 0 ? e / HeadCount : null)) is { } headDim
            ? headDim * kv
            : null;

    /// <summary>Reads the header of <paramref name="path"/> and extracts model info.</summary>
    public static GgufModelInfo Read(string path, bool computeSha256 = false) => From(GgufReader.Read(path), path, computeSha256);

    /// <summary>Extracts model info from a validated file.</summary>
    /// <param name="file">The validated header.</param>
    /// <param name="path">Path of the file (also used for hashing).</param>
    /// <param name="computeSha256">Whether to stream the whole file through SHA-256.</param>
    public static GgufModelInfo From(GgufFile file, string path, bool computeSha256)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var arch = file.GetString("general.architecture") ?? "unknown";
        long parameters = 0, weightBytes = 0;
        var bytesByType = new Dictionary<GgmlType, long>();
        foreach (var t in file.Tensors)
        {
            parameters += t.ElementCount;
            weightBytes += t.ByteSize;
            bytesByType[t.Type] = bytesByType.GetValueOrDefault(t.Type) + t.ByteSize;
        }

        var fileType = file.GetInt64("general.file_type");
        var quantization = (fileType is { } ft ? LlamaFileType.GetName(ft) : null)
            ?? (bytesByType.Count > 0 ? bytesByType.MaxBy(kv => kv.Value).Key.ToString() : "unknown");
        var headCount = MaxOf(file, $"{arch}.attention.head_count");
        var template = file.GetString("tokenizer.chat_template");

        return new GgufModelInfo
        {
            Path = path,
            Version = file.Version,
            FileSize = file.FileSize,
            Sha256 = computeSha256 ? ComputeSha256(path) : null,
            Architecture = arch,
            Name = file.GetString("general.name"),
            ParameterCount = parameters,
            TensorCount = file.Tensors.Count,
            WeightBytes = weightBytes,
            Quantization = quantization,
            FileType = fileType,
            ContextLength = file.GetInt64($"{arch}.context_length"),
            EmbeddingLength = file.GetInt64($"{arch}.embedding_length"),
            BlockCount = file.GetInt64($"{arch}.block_count"),
            HeadCount = headCount,
            HeadCountKv = MaxOf(file, $"{arch}.attention.head_count_kv") ?? headCount,
            KeyLength = file.GetInt64($"{arch}.attention.key_length"),
            ValueLength = file.GetInt64($"{arch}.attention.value_length"),
            FeedForwardLength = MaxOf(file, $"{arch}.feed_forward_length"),
            VocabSize = file.Get(WellKnownMetadata.Tokens)?.ArrayLength ?? 0,
            VocabType = file.GetString("tokenizer.ggml.model"),
            BosTokenId = file.GetInt64("tokenizer.ggml.bos_token_id"),
            EosTokenId = file.GetInt64("tokenizer.ggml.eos_token_id"),
            ChatTemplate = template,
        };
    }

    /// <summary>Streams a file through SHA-256 and returns the lower-case hex digest.</summary>
    public static string ComputeSha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Bytes of KV cache per token of context: <c>2 (K and V) * n_layer * n_embd_kv * bytes per element</c>.
    /// </summary>
    /// <param name="kvType">Cache type: <c>f32</c>, <c>f16</c>, <c>bf16</c>, <c>q8_0</c> (34/32 bytes) or <c>q4_0</c> (18/32 bytes).</param>
    /// <exception cref="ArgumentException">Unknown cache type.</exception>
    /// <exception cref="InvalidOperationException">The model lacks block count / head metadata.</exception>
    public long KvCacheBytesPerToken(string kvType)
    {
        ArgumentNullException.ThrowIfNull(kvType);
        var type = kvType.ToUpperInvariant() switch
        {
            "F32" => GgmlType.F32,
            "F16" => GgmlType.F16,
            "BF16" => GgmlType.BF16,
            "Q8_0" => GgmlType.Q8_0,
            "Q4_0" => GgmlType.Q4_0,
            _ => throw new ArgumentException($"Unknown KV cache type '{kvType}' (expected f16, q8_0 or q4_0).", nameof(kvType)),
        };
        if (BlockCount is not { } layers || EmbeddingLengthKv is not { } width)
        {
            throw new InvalidOperationException($"Model '{Path}' lacks the block count or attention head metadata needed for a KV cache estimate.");
        }

        var traits = GgmlTypeTraits.Get(type);
        var rowBytes = (width + traits.BlockSize - 1) / traits.BlockSize * traits.TypeSize;
        return 2 * layers * rowBytes;
    }

    /// <summary>The human-readable summary printed by <c>sovereign models inspect</c>.</summary>
    public string Describe() => GgufModelInfoFormatter.Format(this);

    private static long? MaxOf(GgufFile file, string key)
    {
        var v = file.Get(key);
        if (v is null)
        {
            return null;
        }

        if (!v.IsArray)
        {
            return v.TryGetInt64(out var l) ? l : null;
        }

        long? max = null;
        for (var i = 0; i < v.ArrayLength; i++)
        {
            var x = v.GetArrayInt64(i);
            max = max is { } m ? Math.Max(m, x) : x;
        }

        return max;
    }
}
