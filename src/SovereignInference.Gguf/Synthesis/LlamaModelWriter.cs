namespace SovereignInference.Gguf;

/// <summary>Writes a complete llama-architecture GGUF file: hyper-parameters, SentencePiece or Tekken tokenizer, tensors.</summary>
internal static class LlamaModelWriter
{
    private const int ChunkValues = 1 << 16;

    public static void Write(string path, ModelShape shape, TestVocabulary vocab, string name, string? chatTemplate, WeightSource weights)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var tensors = LlamaTensorPlan.For(shape, vocab.Count);
        using var w = GgufWriter.Create(path);
        AddMetadata(w, shape, vocab, name, chatTemplate);
        foreach (var t in tensors)
        {
            if (t.IsVector)
            {
                w.AddTensor(t.Name, [t.Columns], t.Type);
            }
            else
            {
                w.AddTensor(t.Name, [t.Columns, t.Rows], t.Type);
            }
        }

        w.WriteHeader();
        var buffer = new float[Math.Max(ChunkValues, shape.EmbeddingLength + shape.FeedForwardLength)];
        foreach (var t in tensors)
        {
            weights.BeginTensor(t);
            var cols = (int)t.Columns;
            var rowsPerChunk = Math.Max(1, buffer.Length / cols);
            for (long row = 0; row < t.Rows; row += rowsPerChunk)
            {
                var rows = (int)Math.Min(rowsPerChunk, t.Rows - row);
                for (var r = 0; r < rows; r++)
                {
                    weights.FillRow(t, row + r, buffer.AsSpan(r * cols, cols));
                }

                w.WriteTensorValues(buffer.AsSpan(0, rows * cols));
            }
        }

        w.Complete();
    }

    private static void AddMetadata(GgufWriter w, ModelShape shape, TestVocabulary vocab, string name, string? chatTemplate)
    {
        static GgufValue U32(int v) => GgufValue.FromUInt32(checked((uint)v));

        w.AddMetadata("general.architecture", GgufValue.FromString("llama"))
            .AddMetadata("general.name", GgufValue.FromString(name))
            .AddMetadata("general.file_type", U32(LlamaFileType.ForTensorType(shape.TensorType)))
            .AddMetadata("general.quantization_version", U32(2))
            .AddMetadata("llama.context_length", U32(shape.ContextLength))
            .AddMetadata("llama.embedding_length", U32(shape.EmbeddingLength))
            .AddMetadata("llama.block_count", U32(shape.Layers))
            .AddMetadata("llama.feed_forward_length", U32(shape.FeedForwardLength))
            .AddMetadata("llama.rope.dimension_count", U32(shape.HeadDimension))
            .AddMetadata("llama.attention.head_count", U32(shape.HeadCount))
            .AddMetadata("llama.attention.head_count_kv", U32(shape.HeadCountKv))
            .AddMetadata("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat32(shape.RmsEpsilon))
            .AddMetadata("llama.rope.freq_base", GgufValue.FromFloat32(shape.RopeFreqBase))
            .AddMetadata("llama.vocab_size", U32(vocab.Count));
        if (vocab.Merges is { } merges)
        {
            // As llama.cpp's converter writes a Mistral Tekken vocabulary (gguf-py MistralVocab).
            w.AddMetadata("tokenizer.ggml.model", GgufValue.FromString("gpt2"))
                .AddMetadata("tokenizer.ggml.pre", GgufValue.FromString("tekken"))
                .AddMetadata("tokenizer.ggml.tokens", GgufValue.FromStringArray(vocab.Tokens.Select(t => t.Text)))
                .AddMetadata("tokenizer.ggml.scores", GgufValue.FromFloat32Array(vocab.Tokens.Select(t => t.Score).ToArray()))
                .AddMetadata("tokenizer.ggml.token_type", GgufValue.FromInt32Array(vocab.Tokens.Select(t => (int)t.Type).ToArray()))
                .AddMetadata("tokenizer.ggml.merges", GgufValue.FromStringArray(merges))
                .AddMetadata("tokenizer.ggml.bos_token_id", U32(TestVocabulary.BosId))
                .AddMetadata("tokenizer.ggml.eos_token_id", U32(TestVocabulary.EosId))
                .AddMetadata("tokenizer.ggml.unknown_token_id", U32(TestVocabulary.UnknownId));
            if (vocab.TryGetId("<pad>", out var pad))
            {
                w.AddMetadata("tokenizer.ggml.padding_token_id", U32(pad));
            }

            w.AddMetadata("tokenizer.ggml.add_bos_token", GgufValue.FromBool(true))
                .AddMetadata("tokenizer.ggml.add_eos_token", GgufValue.FromBool(false));
        }
        else
        {
            w.AddMetadata("tokenizer.ggml.model", GgufValue.FromString("llama"))
                .AddMetadata("tokenizer.ggml.tokens", GgufValue.FromStringArray(vocab.Tokens.Select(t => t.Text)))
                .AddMetadata("tokenizer.ggml.scores", GgufValue.FromFloat32Array(vocab.Tokens.Select(t => t.Score).ToArray()))
                .AddMetadata("tokenizer.ggml.token_type", GgufValue.FromInt32Array(vocab.Tokens.Select(t => (int)t.Type).ToArray()))
                .AddMetadata("tokenizer.ggml.bos_token_id", U32(TestVocabulary.BosId))
                .AddMetadata("tokenizer.ggml.eos_token_id", U32(TestVocabulary.EosId))
                .AddMetadata("tokenizer.ggml.unknown_token_id", U32(TestVocabulary.UnknownId))
                .AddMetadata("tokenizer.ggml.add_bos_token", GgufValue.FromBool(true))
                .AddMetadata("tokenizer.ggml.add_eos_token", GgufValue.FromBool(false))
                .AddMetadata("tokenizer.ggml.add_space_prefix", GgufValue.FromBool(true));
        }

        if (chatTemplate is not null)
        {
            w.AddMetadata("tokenizer.chat_template", GgufValue.FromString(chatTemplate));
        }
    }
}
