namespace SovereignInference.Gguf;

/// <summary>
/// Writes real llama-architecture GGUF files that llama.cpp loads and runs: seeded random models (for load and
/// speed tests) and scripted models whose greedy output is known in advance (for end-to-end tests and demos).
/// </summary>
public static class TestModelGenerator
{
    /// <summary>Preset names accepted by <see cref="WritePreset"/>.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["tiny", "bench100m", "demo", "tools"];

    /// <summary>
    /// The "tools" script, for trying client tool loops: after <c>[/INST]</c> the model calls
    /// get_weather({"city": "Paris"}) (Mistral v3 JSON form); after <c>[/TOOL_RESULTS]</c> it answers "Sunny in Paris.".
    /// </summary>
    public static ScriptedModelSpec ToolsSpec { get; } = new()
    {
        Name = "sovereign-tools",
        Transitions =
        [
            .. ScriptedModelSpec.Chain("[/INST]", "[TOOL_CALLS]", "▁[{\"name\":", "▁\"get_weather\",", "▁\"arguments\":", "▁{\"city\":", "▁\"Paris\"}}]", "</s>"),
            .. ScriptedModelSpec.Chain("[/TOOL_RESULTS]", "▁Sunny", "▁in", "▁Paris", ".", "</s>"),
        ],
    };

    /// <summary>The reply the demo model gives to any Mistral chat prompt (greedy decoding).</summary>
    public const string DemoReply = "Hello! I am a tiny demo model served locally.";

    /// <summary>
    /// The demo script: after <c>[/INST]</c> the model says <see cref="DemoReply"/> and then <c>&lt;/s&gt;</c>.
    /// </summary>
    public static ScriptedModelSpec DemoSpec { get; } = new()
    {
        Name = "sovereign-demo",
        Transitions = ScriptedModelSpec.Chain(
            "[/INST]", "▁Hello", "!", "▁I", "▁am", "▁a", "▁tiny", "▁demo", "▁model", "▁served", "▁locally", ".", "</s>"),
    };

    /// <summary>Writes a model with seeded random weights (default: the "tiny" preset).</summary>
    public static GeneratedModel WriteRandom(string path, RandomModelSpec? spec = null)
    {
        spec ??= RandomModelSpec.Tiny;
        var model = PlanRandom(path, spec);
        var silenced = spec.TextOnlyOutput
            ? model.Vocabulary.Tokens.Where(t => t.Type is TokenType.Byte or TokenType.Control or TokenType.Unknown).Select(t => t.Id).ToHashSet()
            : null;
        LlamaModelWriter.Write(path, model.Shape, model.Vocabulary, spec.Name, spec.ChatTemplate, new RandomWeightSource(model.Shape, silenced));
        return model;
    }

    /// <summary>Writes a scripted model whose greedy next token depends only on the last token.</summary>
    /// <exception cref="ArgumentException">The spec is inconsistent (e.g. a token has two rules).</exception>
    public static GeneratedModel WriteScripted(string path, ScriptedModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (model, next, weight) = PlanScripted(path, spec);
        LlamaModelWriter.Write(path, model.Shape, model.Vocabulary, spec.Name, spec.ChatTemplate, new ScriptedWeightSource(next, weight));
        return model;
    }

    /// <summary>Writes the demo model (<see cref="DemoSpec"/>).</summary>
    public static GeneratedModel WriteDemo(string path) => WriteScripted(path, DemoSpec);

    /// <summary>Writes a named preset: "tiny", "bench100m" or "demo".</summary>
    /// <param name="path">Output file.</param>
    /// <param name="preset">Preset name (case-insensitive).</param>
    /// <param name="tensorType">Optional override of the weight type (F32, F16 or Q8_0).</param>
    public static GeneratedModel WritePreset(string path, string preset, GgmlType? tensorType = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        switch (preset.ToUpperInvariant())
        {
            case "TINY":
                return WriteRandom(path, WithType(RandomModelSpec.Tiny, tensorType));
            case "BENCH100M":
                return WriteRandom(path, WithType(RandomModelSpec.Bench100M, tensorType));
            case "TOOLS":
                return WriteScripted(path, ToolsSpec with { TensorType = tensorType ?? ToolsSpec.TensorType });
            case "DEMO":
                return WriteScripted(path, tensorType is { } t ? DemoSpec with { TensorType = t } : DemoSpec);
            default:
                throw new ArgumentException($"Unknown preset '{preset}'. Known presets: {string.Join(", ", Presets)}.", nameof(preset));
        }
    }

    /// <summary>Describes a random model without writing it (vocabulary and shape are deterministic).</summary>
    internal static GeneratedModel PlanRandom(string path, RandomModelSpec spec)
    {
        spec.Shape.Validate();
        return new GeneratedModel(path, spec.TokenizerFile is { } tokenizer ? ReadTokenizer(tokenizer) : VocabularyBuilder.Build(spec.ExtraPieces, spec.ExtraControlTokens), spec.Shape, null);
    }

    /// <summary>
    /// Reads a tokenizer file into a vocabulary: a Tekken vocabulary (mistral-common's tekken.json, by the .json
    /// extension) or a SentencePiece model.
    /// </summary>
    public static TestVocabulary ReadTokenizer(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? TekkenVocabulary.Read(path).ToGgufVocabulary()
            : SentencePieceModel.Read(path);
    }

    /// <summary>Describes a scripted model without writing it: vocabulary, shape, next-token table, output weight.</summary>
    internal static (GeneratedModel Model, int[] Next, float OutputWeight) PlanScripted(string path, ScriptedModelSpec spec)
    {
        var pieces = spec.ExtraPieces
            .Concat(spec.Transitions.SelectMany(t => new[] { t.From, t.To }))
            .Append(spec.DefaultNext);
        var vocab = spec.TokenizerFile is { } tokenizer
            ? ReadTokenizer(tokenizer)
            : VocabularyBuilder.Build(pieces.Where(p => !IsReserved(p) && !spec.ExtraControlTokens.Contains(p)), spec.ExtraControlTokens);
        var next = new int[vocab.Count];
        Array.Fill(next, vocab.IdOf(spec.DefaultNext));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (from, to) in spec.Transitions)
        {
            if (!seen.Add(from))
            {
                throw new ArgumentException($"Token '{from}' has more than one transition; the next token may depend only on the last token.", nameof(spec));
            }

            next[vocab.IdOf(from)] = vocab.IdOf(to);
        }

        // One-hot embeddings need n_embd >= n_vocab; heads of 64 keep every backend's attention kernels happy.
        const int headDim = 64;
        var embd = (vocab.Count + headDim - 1) / headDim * headDim;
        var shape = new ModelShape
        {
            Layers = 1,
            EmbeddingLength = embd,
            HeadCount = embd / headDim,
            HeadCountKv = embd / headDim,
            FeedForwardLength = 64,
            ContextLength = spec.ContextLength,
            TensorType = spec.TensorType,
        };
        shape.Validate();

        // The final RMS norm maps the one-hot state e_t to about sqrt(n_embd) * e_t.
        var outputWeight = spec.NextTokenLogit / MathF.Sqrt(embd);
        return (new GeneratedModel(path, vocab, shape, spec), next, outputWeight);
    }

    private static bool IsReserved(string piece) =>
        piece is "<unk>" or "<s>" or "</s>"
        || VocabularyBuilder.ControlTokens.Contains(piece)
        || (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece.EndsWith('>'));

    private static RandomModelSpec WithType(RandomModelSpec spec, GgmlType? type) =>
        type is { } t ? spec with { Shape = spec.Shape with { TensorType = t } } : spec;
}
