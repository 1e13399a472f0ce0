using SovereignInference.Bench.Targets;

namespace SovereignInference.Bench.Prompts;

/// <summary>
/// The prompt of request i. Synthetic prompts are <c>promptTokens</c> words drawn from a list of common English words
/// that are one token each in the usual BPE/SentencePiece vocabularies (each preceded by a space), seeded per request
/// so every request differs (no shared prefix for a prefix cache to reuse) yet a run is repeatable. The real prompt
/// length is what the server reports in usage (the report's mean prompt tokens). A prompt file is sent as is, the same
/// text for every request.
/// </summary>
internal sealed class PromptSource
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
        "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their",
        "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so",
        "no", "time", "people", "year", "day", "man", "world", "life", "hand", "part", "place", "case", "week", "work",
        "house", "water", "room", "city", "night", "home", "point", "end", "way", "new", "good", "first", "last", "long",
        "great", "little", "own", "other", "old", "right", "big", "high", "small", "large", "next", "early", "young",
        "important", "few", "public", "same", "able", "see", "know", "take", "come", "think", "look", "want", "give",
        "use", "find", "tell", "ask", "seem", "feel", "try", "leave", "call", "keep", "let", "begin", "help", "show",
    ];

    private readonly string? _fileText;
    private readonly int _promptTokens;
    private readonly int _maxTokens;
    private readonly long _seed;

    private PromptSource(string? fileText, int promptTokens, int maxTokens, long seed)
    {
        _fileText = fileText;
        _promptTokens = promptTokens;
        _maxTokens = maxTokens;
        _seed = seed;
    }

    /// <summary>Synthetic prompts of about <paramref name="promptTokens"/> tokens.</summary>
    public static PromptSource Synthetic(int promptTokens, int maxTokens, long seed) => new(null, promptTokens, maxTokens, seed);

    /// <summary>The text of a prompt file for every request.</summary>
    public static PromptSource FromText(string text, int maxTokens) => new(text, 0, maxTokens, 0);

    public string Description => _fileText is null ? $"synthetic, {_promptTokens} words" : $"file, {_fileText.Length} characters";

    /// <summary>The prompt of request <paramref name="index"/> (of concurrency level <paramref name="level"/>).</summary>
    public BenchPrompt Get(int level, int index)
    {
        if (_fileText is not null)
        {
            return new BenchPrompt(_fileText, _maxTokens);
        }

        var random = new Random(Seed(_seed, level, index));
        var words = new string[_promptTokens];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = Words[random.Next(Words.Length)];
        }

        return new BenchPrompt(string.Join(' ', words), _maxTokens);
    }

    /// <summary>A seed that is the same in every process (HashCode is randomized per process).</summary>
    private static int Seed(long seed, int level, int index)
    {
        var mixed = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)level << 32) ^ (uint)index);
        mixed = unchecked((mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL);
        mixed = unchecked((mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL);
        return (int)((mixed ^ (mixed >> 31)) & int.MaxValue);
    }
}
