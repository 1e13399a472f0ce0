using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SovereignInference.Gguf;

/// <summary>
/// A vocabulary in the format of mistral-common's <c>tekken.json</c> (tiktoken ranks, Mistral's special tokens):
/// generated small (the 256 single bytes plus BPE merges learned from a built-in deterministic corpus, with the
/// real special-token list and ranks), read from a file, and converted to GGUF tokenizer metadata the way
/// llama.cpp's converter (gguf-py's MistralVocab) does: model "gpt2", pre "tekken", special tokens as CONTROL tokens
/// at their ranks, inner tokens offset by the number of special tokens and written as GPT-2 byte-level strings,
/// merges recovered from the ranks.
/// </summary>
public sealed class TekkenVocabulary
{
    /// <summary>Tekken's pre-tokenizer pattern (the <c>config.pattern</c> of Mistral's tekken.json files).</summary>
    public const string Pattern = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Number of special tokens of Mistral's tekken vocabularies (the rest are <c>&lt;SPECIAL_n&gt;</c> fillers).</summary>
    public const int DefaultNumSpecialTokens = 1000;

    /// <summary>Versions <see cref="Generate"/> knows the special tokens of.</summary>
    public static IReadOnlyList<string> Versions { get; } = ["v3", "v7", "v11", "v13"];

    /// <summary>
    /// mistral-common's special tokens by rank (Tekkenizer.DEPRECATED_SPECIAL_TOKENS for ranks 0..19; [ARGS] and
    /// [CALL_ID] from v11; [THINK] and [/THINK] from v13, at the ranks mistral-common's tests give them).
    /// </summary>
    public static IReadOnlyList<(int Rank, string Text)> NamedSpecialTokens(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var level = Array.IndexOf(["v3", "v7", "v11", "v13"], version);
        if (level < 0)
        {
            throw new ArgumentException($"unknown tekken version '{version}' (known: {string.Join(", ", Versions)})", nameof(version));
        }

        string[] deprecated =
        [
            "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
            "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
            "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
        ];
        var list = deprecated.Select((t, i) => (i, t)).ToList();
        if (level >= 2)
        {
            list.Add((32, "[ARGS]"));
            list.Add((33, "[CALL_ID]"));
        }

        if (level >= 3)
        {
            list.Add((35, "[THINK]"));
            list.Add((36, "[/THINK]"));
        }

        return list;
    }

    private TekkenVocabulary(string version, string pattern, int numSpecialTokens, IReadOnlyList<string> specialTokens, IReadOnlyList<byte[]> inner)
    {
        Version = version;
        RegexPattern = pattern;
        NumSpecialTokens = numSpecialTokens;
        SpecialTokens = specialTokens;
        InnerTokens = inner;
    }

    /// <summary><c>config.version</c>, e.g. "v13".</summary>
    public string Version { get; }

    /// <summary><c>config.pattern</c>.</summary>
    public string RegexPattern { get; }

    /// <summary><c>config.default_num_special_tokens</c>: inner token ranks are offset by this in token ids.</summary>
    public int NumSpecialTokens { get; }

    /// <summary>Special token texts by rank (id), fillers included.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The bytes of every inner (tiktoken) token by rank; ranks 0..255 are the single bytes.</summary>
    public IReadOnlyList<byte[]> InnerTokens { get; }

    /// <summary>Token count: special tokens then inner tokens.</summary>
    public int Count => NumSpecialTokens + InnerTokens.Count;

    /// <summary>
    /// Generates a small deterministic vocabulary of a tokenizer version: the real special tokens (and fillers up to
    /// <paramref name="numSpecialTokens"/>), the 256 bytes, and up to <paramref name="maxMerges"/> BPE merges learned
    /// from the built-in corpus with the tekken pre-tokenizer.
    /// </summary>
    public static TekkenVocabulary Generate(string version = "v13", int maxMerges = 1500, int numSpecialTokens = DefaultNumSpecialTokens)
    {
        var named = NamedSpecialTokens(version);
        var specials = Enumerable.Range(0, numSpecialTokens).Select(i => $"<SPECIAL_{i}>").ToArray();
        foreach (var (rank, text) in named)
        {
            specials[rank] = text;
        }

        return new TekkenVocabulary(version, Pattern, numSpecialTokens, specials, LearnMerges(Corpus(), maxMerges));
    }

    /// <summary>Reads a tekken.json file (mistral-common's format).</summary>
    /// <exception cref="InvalidDataException">The file is not a tekken vocabulary.</exception>
    public static TekkenVocabulary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not JSON ({e.Message})", e);
        }

        var config = root["config"] ?? throw new InvalidDataException($"{path}: no 'config'; not a tekken vocabulary");
        var vocab = root["vocab"]?.AsArray() ?? throw new InvalidDataException($"{path}: no 'vocab'; not a tekken vocabulary");
        var numSpecial = (int?)config["default_num_special_tokens"] ?? throw new InvalidDataException($"{path}: no config.default_num_special_tokens");
        var vocabSize = (int?)config["default_vocab_size"] ?? numSpecial + vocab.Count;
        var version = (string?)config["version"] ?? "v3";
        var pattern = (string?)config["pattern"] ?? throw new InvalidDataException($"{path}: no config.pattern");
        var innerCount = vocabSize - numSpecial;
        if (innerCount < 256 || innerCount > vocab.Count)
        {
            throw new InvalidDataException($"{path}: default_vocab_size {vocabSize} does not fit {vocab.Count} tokens and {numSpecial} special tokens");
        }

        var inner = new List<byte[]>(innerCount);
        for (var i = 0; i < innerCount; i++)
        {
            var token = vocab[i]!;
            if ((int?)token["rank"] != i)
            {
                throw new InvalidDataException($"{path}: vocab[{i}] has rank {token["rank"]} (ranks must be 0, 1, 2, ...)");
            }

            var bytes = Convert.FromBase64String((string?)token["token_bytes"] ?? "");
            if (i < 256 && (bytes.Length != 1 || bytes[0] != i))
            {
                throw new InvalidDataException($"{path}: rank {i} must be the single byte {i}");
            }

            inner.Add(bytes);
        }

        var specials = Enumerable.Range(0, numSpecial).Select(i => $"<SPECIAL_{i}>").ToArray();
        var specialList = root["special_tokens"]?.AsArray();
        IEnumerable<(int Rank, string Text)> named = specialList is null
            ? NamedSpecialTokens("v7")
            : specialList.Select(s => ((int)s!["rank"]!, (string)s["token_str"]!));
        foreach (var (rank, text) in named)
        {
            if (rank < 0 || rank >= numSpecial)
            {
                throw new InvalidDataException($"{path}: special token '{text}' has rank {rank}, outside 0..{numSpecial - 1}");
            }

            specials[rank] = text;
        }

        return new TekkenVocabulary(version, pattern, numSpecial, specials, inner);
    }

    /// <summary>Writes the vocabulary as mistral-common's tekken.json.</summary>
    public string ToJson()
    {
        var vocab = new JsonArray();
        for (var i = 0; i < InnerTokens.Count; i++)
        {
            string? text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(InnerTokens[i]);
            }
            catch (DecoderFallbackException)
            {
                text = null;
            }

            vocab.Add(new JsonObject { ["rank"] = i, ["token_bytes"] = Convert.ToBase64String(InnerTokens[i]), ["token_str"] = text });
        }

        var specials = new JsonArray();
        for (var i = 0; i < SpecialTokens.Count; i++)
        {
            specials.Add(new JsonObject { ["rank"] = i, ["token_str"] = SpecialTokens[i], ["is_control"] = true });
        }

        var root = new JsonObject
        {
            ["config"] = new JsonObject
            {
                ["pattern"] = RegexPattern,
                ["num_vocab_tokens"] = InnerTokens.Count,
                ["default_vocab_size"] = Count,
                ["default_num_special_tokens"] = NumSpecialTokens,
                ["version"] = Version,
            },
            ["vocab"] = vocab,
            ["special_tokens"] = specials,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>Writes <see cref="ToJson"/> to a file.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson(), new UTF8Encoding(false));

    /// <summary>The GGUF vocabulary: special tokens (CONTROL, <c>&lt;unk&gt;</c> UNKNOWN) then byte-level inner tokens, with merges.</summary>
    public TestVocabulary ToGgufVocabulary()
    {
        var tokens = new List<VocabularyToken>(Count);
        for (var i = 0; i < NumSpecialTokens; i++)
        {
            tokens.Add(new VocabularyToken(i, SpecialTokens[i], 0, TokenType.Control));
        }

        for (var i = 0; i < InnerTokens.Count; i++)
        {
            tokens.Add(new VocabularyToken(NumSpecialTokens + i, ByteLevel.Encode(InnerTokens[i]), 0, TokenType.Normal));
        }

        return new TestVocabulary(tokens, Merges());
    }

    /// <summary>
    /// The merges llama.cpp needs, recovered from the ranks as gguf-py's MistralVocab does: for each token of rank
    /// 256 and up, every split into two tokens, ordered by the token's rank, then by the ranks of the two halves.
    /// </summary>
    public IReadOnlyList<string> Merges()
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < InnerTokens.Count; i++)
        {
            ranks[Convert.ToHexString(InnerTokens[i])] = i;
        }

        var merges = new List<string>();
        for (var i = 256; i < InnerTokens.Count; i++)
        {
            var token = InnerTokens[i];
            var local = new List<(int Left, int Right)>();
            for (var j = 1; j < token.Length; j++)
            {
                if (ranks.TryGetValue(Convert.ToHexString(token, 0, j), out var left) && ranks.TryGetValue(Convert.ToHexString(token, j, token.Length - j), out var right))
                {
                    local.Add((left, right));
                }
            }

            if (local.Count == 0)
            {
                throw new InvalidDataException($"tekken token of rank {i} cannot be split into two tokens");
            }

            foreach (var (left, right) in local.OrderBy(p => p.Left).ThenBy(p => p.Right))
            {
                merges.Add(ByteLevel.Encode(InnerTokens[left]) + " " + ByteLevel.Encode(InnerTokens[right]));
            }
        }

        return merges;
    }

    /// <summary>Learns byte-level BPE merges (most frequent pair first, ties by the pair's ranks) over the pre-tokenized corpus.</summary>
    private static List<byte[]> LearnMerges(string corpus, int maxMerges)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        var known = new HashSet<string>(tokens.Select(t => Convert.ToHexString(t)), StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in new Regex(Pattern, RegexOptions.CultureInvariant).Matches(corpus))
        {
            counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        }

        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: Encoding.UTF8.GetBytes(kv.Key).Select(b => (int)b).ToList(), Count: kv.Value))
            .ToList();
        while (tokens.Count - 256 < maxMerges)
        {
            var pairs = new Dictionary<(int, int), int>();
            foreach (var (symbols, count) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    pairs[pair] = pairs.GetValueOrDefault(pair) + count;
                }
            }

            var best = pairs.Where(p => p.Value >= 2 && !known.Contains(Convert.ToHexString([.. tokens[p.Key.Item1], .. tokens[p.Key.Item2]])))
                .OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2)
                .Select(p => ((int, int)?)p.Key).FirstOrDefault();
            if (best is not { } chosen)
            {
                break;
            }

            byte[] merged = [.. tokens[chosen.Item1], .. tokens[chosen.Item2]];
            var id = tokens.Count;
            tokens.Add(merged);
            known.Add(Convert.ToHexString(merged));
            foreach (var (symbols, _) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == chosen.Item1 && symbols[i + 1] == chosen.Item2)
                    {
                        symbols[i] = id;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }

        return tokens;
    }

    /// <summary>The deterministic training corpus: English words and sentences, chat and tool-call JSON, a little accented text.</summary>
    private static string Corpus()
    {
        var text = new StringBuilder();
        var words = VocabularyBuilder.BuiltInWords;
        for (var repeat = 0; repeat < 3; repeat++)
        {
            foreach (var word in words)
            {
                text.Append(' ').Append(word).Append(' ').Append(word).Append(". ");
                text.Append(char.ToUpperInvariant(word[0])).Append(word.AsSpan(1)).Append(", ");
            }
        }

        string[] sentences =
        [
            "Hello! I am a tiny demo model served locally.",
            "Hello world! How are you today? I am fine, thanks.",
            "The weather in Paris is sunny today. The weather in London is rainy.",
            "What is the weather like in Paris? Sunny in Paris.",
            "You are a helpful assistant. Answer the question of the user.",
            "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
            "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}]",
            "{\"content\": \"sunny\", \"call_id\": \"abcdefghi\"}",
            "Let me think about this. The user wants the weather, so I call the tool.",
            "The café in Zürich serves crème brûlée. Ça va? Très bien, merci.",
            "def main():\n    print(\"hello\")\n    return 0\n",
        ];
        for (var repeat = 0; repeat < 4; repeat++)
        {
            foreach (var sentence in sentences)
            {
                text.Append(sentence).Append('\n');
            }
        }

        return text.ToString();
    }
}

/// <summary>GPT-2's byte-to-unicode mapping, which byte-level BPE vocabularies in GGUF use for token text.</summary>
public static class ByteLevel
{
    private static readonly char[] ByteToChar = BuildTable();
    private static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>Token bytes as GGUF token text (e.g. " the" → "Ġthe").</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    /// <summary>GGUF token text back to its bytes.</summary>
    /// <exception cref="ArgumentException">A character outside the mapping.</exception>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Select(c => CharToByte.TryGetValue(c, out var b) ? b : throw new ArgumentException($"'{c}' is not a byte-level character", nameof(text)))];
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }
}
