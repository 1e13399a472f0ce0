using System.Globalization;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Builds the SentencePiece-style vocabulary of generated models: specials, Mistral control tokens,
/// 256 byte-fallback tokens, then normal pieces. Every multi-character piece is added together with all of
/// its prefixes, because llama.cpp's SPM tokenizer only merges adjacent symbols whose concatenation is a token.
/// </summary>
public static class VocabularyBuilder
{
    /// <summary>Mistral v3 control tokens, in id order starting at 3.</summary>
    public static IReadOnlyList<string> ControlTokens { get; } =
        ["[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"];

    /// <summary>
    /// Common English words built into every generated vocabulary (each with a leading U+2581), including every word
    /// `sovereign-bench bench` draws synthetic prompts from, so a synthetic prompt of N words is about N tokens here too.
    /// </summary>
    public static IReadOnlyList<string> BuiltInWords { get; } =
    [
        "the", "a", "an", "and", "of", "to", "in", "is", "it", "that", "for", "on", "with", "as", "was", "be", "at",
        "by", "this", "are", "or", "not", "you", "I", "we", "he", "she", "they", "can", "will", "do", "have", "from",
        "what", "how", "Hello", "Hi", "world", "yes", "no", "please", "thanks", "help", "today", "model", "tool",
        "call", "weather", "time", "name", "am", "my", "your", "here", "there", "one", "two", "three", "test", "demo",
        "tiny", "good", "day", "his", "which", "but", "had", "were", "their", "all", "her", "has", "been", "if",
        "more", "when", "would", "who", "so", "people", "year", "man", "life", "hand", "part", "place", "case",
        "week", "work", "house", "water", "room", "city", "night", "home", "point", "end", "way", "new", "first",
        "last", "long", "great", "little", "own", "other", "old", "right", "big", "high", "small", "large", "next",
        "early", "young", "important", "few", "public", "same", "able", "see", "know", "take", "come", "think",
        "look", "want", "give", "use", "find", "tell", "ask", "seem", "feel", "try", "leave", "keep", "let", "begin",
        "show",
    ];

    /// <summary>Id of the first byte token <c>&lt;0x00&gt;</c>.</summary>
    public static int FirstByteTokenId => 3 + ControlTokens.Count;

    /// <summary>
    /// Builds the vocabulary: built-in pieces followed by <paramref name="extraPieces"/> (and their prefixes), then
    /// <paramref name="extraControlTokens"/>.
    /// </summary>
    public static TestVocabulary Build(IEnumerable<string> extraPieces, IEnumerable<string>? extraControlTokens = null)
    {
        ArgumentNullException.ThrowIfNull(extraPieces);
        var tokens = new List<VocabularyToken>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        void Add(string text, float score, TokenType type)
        {
            if (seen.Add(text))
            {
                tokens.Add(new VocabularyToken(tokens.Count, text, score, type));
            }
        }

        void AddPiece(string piece)
        {
            if (piece.Length == 0)
            {
                throw new ArgumentException("Vocabulary pieces cannot be empty.", nameof(extraPieces));
            }

            if (seen.Contains(piece))
            {
                return;
            }

            var prefix = new StringBuilder();
            var runes = 0;
            foreach (var rune in piece.EnumerateRunes())
            {
                prefix.Append(rune.ToString());
                runes++;
                Add(prefix.ToString(), runes, TokenType.Normal);
            }
        }

        Add("<unk>", 0, TokenType.Unknown);
        Add("<s>", 0, TokenType.Control);
        Add("</s>", 0, TokenType.Control);
        foreach (var control in ControlTokens)
        {
            Add(control, 0, TokenType.Control);
        }

        for (var b = 0; b < 256; b++)
        {
            Add(ByteTokenText((byte)b), 0, TokenType.Byte);
        }

        AddPiece(TestVocabulary.SpaceMarker.ToString());
        for (var c = '!'; c <= '~'; c++)
        {
            AddPiece(c.ToString());
        }

        foreach (var word in BuiltInWords)
        {
            AddPiece(TestVocabulary.SpaceMarker + word);
        }

        foreach (var piece in extraPieces)
        {
            AddPiece(piece);
        }

        foreach (var control in extraControlTokens ?? [])
        {
            Add(control, 0, TokenType.Control);
        }

        return new TestVocabulary(tokens);
    }

    /// <summary>The text of the byte-fallback token for <paramref name="value"/>, e.g. <c>&lt;0x0A&gt;</c>.</summary>
    public static string ByteTokenText(byte value) => "<0x" + value.ToString("X2", CultureInfo.InvariantCulture) + ">";

    /// <summary>Converts plain text to a SentencePiece piece: spaces become U+2581 (e.g. " Paris" to "▁Paris").</summary>
    public static string ToPiece(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace(' ', TestVocabulary.SpaceMarker);
    }
}
