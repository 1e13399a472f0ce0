namespace SovereignInference.Gguf;

/// <summary>A model with seeded random weights (deterministic for a given spec).</summary>
public sealed record RandomModelSpec
{
    /// <summary>Shape, tensor type and seed.</summary>
    public ModelShape Shape { get; init; } = ModelShape.Tiny;
    /// <summary><c>general.name</c>.</summary>
    public string Name { get; init; } = "sovereign-random";
    /// <summary>Extra vocabulary pieces (SentencePiece text, U+2581 for a leading space).</summary>
    public IReadOnlyList<string> ExtraPieces { get; init; } = [];
    /// <summary>A tokenizer file whose vocabulary replaces the generated one: a SentencePiece model (e.g. Mistral's tokenizer.model.v3) or a Tekken vocabulary (*.json, mistral-common's tekken.json format).</summary>
    public string? TokenizerFile { get; init; }
    /// <summary>Additional control tokens (e.g. "[ARGS]"), added after all pieces so other ids stay put.</summary>
    public IReadOnlyList<string> ExtraControlTokens { get; init; } = [];
    /// <summary>
    /// Zero the output rows of byte, control and unknown tokens, so greedy decoding only ever picks text pieces (their
    /// logit is 0 against text logits of std ~3). Random weights otherwise emit lone byte tokens — invalid UTF-8 —
    /// which some peers' output parsers reject mid-stream; benchmarks against them use this.
    /// </summary>
    public bool TextOnlyOutput { get; init; }
    /// <summary>Embedded chat template; defaults to Mistral v3, null omits it.</summary>
    public string? ChatTemplate { get; init; } = MistralChatTemplate.Text;

    /// <summary>The "tiny" preset.</summary>
    public static RandomModelSpec Tiny { get; } = new() { Name = "sovereign-tiny" };

    /// <summary>The "bench100m" preset (about 100M parameters, F16).</summary>
    public static RandomModelSpec Bench100M { get; } = new() { Shape = ModelShape.Bench100M, Name = "sovereign-bench100m" };
}
