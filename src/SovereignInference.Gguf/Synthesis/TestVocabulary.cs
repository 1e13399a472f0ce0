namespace SovereignInference.Gguf;

/// <summary>One token of a generated vocabulary.</summary>
/// <param name="Id">Token id.</param>
/// <param name="Text">Token text as stored in the GGUF file (SentencePiece style: U+2581 marks a space).</param>
/// <param name="Score">SentencePiece score; longer pieces score higher.</param>
/// <param name="Type">Token attribute.</param>
public sealed record VocabularyToken(int Id, string Text, float Score, TokenType Type);

/// <summary>The SentencePiece-style vocabulary of a generated test model, for looking up token ids by text.</summary>
public sealed class TestVocabulary
{
    /// <summary>The word-boundary marker SentencePiece uses for a leading space.</summary>
    public const char SpaceMarker = '\u2581';

    /// <summary>Id of <c>&lt;unk&gt;</c>.</summary>
    public const int UnknownId = 0;
    /// <summary>Id of <c>&lt;s&gt;</c>.</summary>
    public const int BosId = 1;
    /// <summary>Id of <c>&lt;/s&gt;</c>.</summary>
    public const int EosId = 2;

    private readonly Dictionary<string, int> _ids;

    internal TestVocabulary(IReadOnlyList<VocabularyToken> tokens, IReadOnlyList<string>? merges = null)
    {
        Tokens = tokens;
        Merges = merges;
        _ids = tokens.ToDictionary(t => t.Text, t => t.Id, StringComparer.Ordinal);
    }

    /// <summary>
    /// Byte-level BPE merges ("left right") for a Tekken vocabulary (GGUF tokenizer "gpt2", pre "tekken", token text
    /// in GPT-2's byte-to-unicode form); null for a SentencePiece vocabulary.
    /// </summary>
    public IReadOnlyList<string>? Merges { get; }

    /// <summary>Whether this is a Tekken (byte-level BPE) vocabulary.</summary>
    public bool IsTekken => Merges is not null;

    /// <summary>All tokens, indexed by id.</summary>
    public IReadOnlyList<VocabularyToken> Tokens { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>Token text by id.</summary>
    public string this[int id] => Tokens[id].Text;

    /// <summary>Whether a token with exactly this text exists.</summary>
    public bool Contains(string text) => _ids.ContainsKey(text);

    /// <summary>Looks up a token id by its exact text.</summary>
    public bool TryGetId(string text, out int id) => _ids.TryGetValue(text, out id);

    /// <summary>The id of the token with exactly this text (e.g. <c>"▁Hello"</c>, <c>"[/INST]"</c>, <c>"&lt;0x0A&gt;"</c>).</summary>
    /// <exception cref="KeyNotFoundException">No such token.</exception>
    public int IdOf(string text) =>
        _ids.TryGetValue(text, out var id) ? id : throw new KeyNotFoundException($"Token '{text}' is not in the vocabulary.");

    /// <summary>
    /// Renders tokens as text the way llama.cpp does for non-special output: U+2581 becomes a space,
    /// byte tokens become their byte, control tokens are omitted.
    /// </summary>
    public string Detokenize(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var t = Tokens[id];
            switch (t.Type)
            {
                case TokenType.Byte:
                    bytes.Add(Convert.ToByte(t.Text[3..5], 16));
                    break;
                case TokenType.Normal or TokenType.UserDefined when IsTekken:
                    bytes.AddRange(ByteLevel.Decode(t.Text));
                    break;
                case TokenType.Normal or TokenType.UserDefined:
                    bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(t.Text.Replace(SpaceMarker, ' ')));
                    break;
            }
        }

        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }
}
