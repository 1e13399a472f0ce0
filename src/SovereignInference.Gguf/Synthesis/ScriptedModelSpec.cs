namespace SovereignInference.Gguf;

/// <summary>"After token <paramref name="From"/>, greedy decoding produces <paramref name="To"/>."</summary>
/// <param name="From">Token text (e.g. <c>"[/INST]"</c>, <c>"▁Hello"</c>, <c>"&lt;0xE2&gt;"</c>).</param>
/// <param name="To">Token text of the next token (e.g. <c>"&lt;/s&gt;"</c> to stop).</param>
public readonly record struct TokenTransition(string From, string To);

/// <summary>
/// A model whose greedy continuation is known in advance: the next token depends only on the last token,
/// following <see cref="Transitions"/> (unmapped tokens go to <see cref="DefaultNext"/>). Pieces that are not
/// in the built-in vocabulary are added automatically. Cycles are allowed.
/// </summary>
/// <example>
/// <code>
/// var spec = new ScriptedModelSpec
/// {
///     Transitions = ScriptedModelSpec.Chain("[/INST]", "▁Paris", "▁is", "▁nice", ".", "&lt;/s&gt;"),
/// };
/// </code>
/// </example>
public sealed record ScriptedModelSpec
{
    /// <summary>Token-to-next-token rules; each <c>From</c> may appear once.</summary>
    public IReadOnlyList<TokenTransition> Transitions { get; init; } = [];
    /// <summary>The next token for every token without a rule (default <c>&lt;/s&gt;</c>).</summary>
    public string DefaultNext { get; init; } = "</s>";
    /// <summary>Additional vocabulary pieces.</summary>
    public IReadOnlyList<string> ExtraPieces { get; init; } = [];
    /// <summary>Additional control tokens (e.g. "[THINK]", "[ARGS]"), added after all pieces so other ids stay put.</summary>
    public IReadOnlyList<string> ExtraControlTokens { get; init; } = [];
    /// <summary>
    /// A tokenizer file (tekken.json or SentencePiece tokenizer.model) whose vocabulary replaces the generated one; then
    /// every piece of <see cref="Transitions"/> must already be a token of it (Tekken pieces in GPT-2 byte-level form, e.g. "ĠHello").
    /// </summary>
    public string? TokenizerFile { get; init; }
    /// <summary><c>general.name</c>.</summary>
    public string Name { get; init; } = "sovereign-scripted";
    /// <summary>Embedded chat template; defaults to Mistral v3, null omits it.</summary>
    public string? ChatTemplate { get; init; } = MistralChatTemplate.Text;
    /// <summary>Training context length recorded in the file.</summary>
    public int ContextLength { get; init; } = 4096;
    /// <summary>Storage type of weight matrices (F32, F16 or Q8_0).</summary>
    public GgmlType TensorType { get; init; } = GgmlType.F16;
    /// <summary>Logit of the scripted next token (all others are 0).</summary>
    public float NextTokenLogit { get; init; } = 40f;

    /// <summary>Builds transitions p0→p1→p2→… from consecutive pieces.</summary>
    public static IReadOnlyList<TokenTransition> Chain(params string[] pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var list = new List<TokenTransition>();
        for (var i = 0; i + 1 < pieces.Length; i++)
        {
            list.Add(new TokenTransition(pieces[i], pieces[i + 1]));
        }

        return list;
    }
}
