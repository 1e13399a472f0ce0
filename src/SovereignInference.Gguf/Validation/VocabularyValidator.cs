using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Mirrors the checks of llama.cpp's <c>llama_vocab::load</c> that metadata can reach, plus the vocabulary facts whose
/// absence makes llama.cpp abort later: duplicate token texts (<c>GGML_ASSERT(id_to_token.size() == token_to_id.size())</c>),
/// BYTE tokens whose text is not a byte (<c>token_to_byte</c> throws or aborts), an SPM vocabulary without the 256
/// byte-fallback tokens (tokenizing throws <c>std::out_of_range</c> through the C API), a "no_vocab" tokenizer
/// (token functions assert), and special token ids outside the vocabulary.
/// </summary>
internal static class VocabularyValidator
{
    public const string ModelKey = "tokenizer.ggml.model";

    /// <summary>The tokenizer models this server accepts: SentencePiece ("llama") and byte-level BPE ("gpt2").</summary>
    public static IReadOnlyList<string> SupportedTokenizers { get; } = ["llama", "gpt2"];

    /// <summary><c>enum llama_token_type</c>: UNDEFINED 0 .. BYTE 6.</summary>
    private const int MaxTokenType = 6;
    private const int ByteTokenType = 6;

    private static readonly string[] SpecialIdKeys =
    [
        "bos_token_id", "eos_token_id", "eot_token_id", "eom_token_id", "unknown_token_id", "seperator_token_id",
        "padding_token_id", "mask_token_id", "cls_token_id", "fim_pre_token_id", "fim_suf_token_id", "fim_mid_token_id",
        "fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id",
    ];

    /// <summary>Validates the tokenizer metadata and returns the vocabulary size (the token count).</summary>
    public static int Validate(ModelMetadata m, string arch)
    {
        var model = m.OptionalString(ModelKey, GgufError.InvalidVocabulary);
        if (model is null)
        {
            throw Fail(m, $"'{ModelKey}' is missing; llama.cpp cannot build a tokenizer");
        }

        if (!SupportedTokenizers.Contains(model))
        {
            throw Fail(m, $"'{ModelKey}' is '{model}'; only {string.Join(" and ", SupportedTokenizers.Select(t => $"'{t}'"))} are supported"
                + (model is "no_vocab" or "none" ? " (a model without a vocabulary makes llama.cpp's token functions assert)" : ""));
        }

        if (m.File.Get(WellKnownMetadata.Tokens) is not { } tokensValue)
        {
            throw Fail(m, $"'{WellKnownMetadata.Tokens}' is missing");
        }

        var tokens = tokensValue.AsArray<string>();
        if (tokens.Count == 0)
        {
            throw Fail(m, $"'{WellKnownMetadata.Tokens}' is empty");
        }

        if (m.OptionalUInt32(arch + ".vocab_size", GgufError.InvalidVocabulary) is { } declared && declared != tokens.Count)
        {
            throw Fail(m, $"'{arch}.vocab_size' is {declared} but '{WellKnownMetadata.Tokens}' has {tokens.Count} tokens");
        }

        var ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!ids.TryAdd(tokens[i], i))
            {
                throw Fail(m, $"token {i} '{Escape(tokens[i])}' duplicates token {ids[tokens[i]]}; llama.cpp asserts that token texts are unique");
            }
        }

        if (m.File.Get(WellKnownMetadata.Scores) is { } scoresValue)
        {
            var scores = scoresValue.AsArray<float>();
            for (var i = 0; i < scores.Count; i++)
            {
                if (!float.IsFinite(scores[i]))
                {
                    throw Fail(m, $"the score of token {i} is {ModelMetadata.Show(scores[i])} (must be finite)");
                }
            }
        }

        if (m.File.Get(WellKnownMetadata.TokenTypes) is { } typesValue)
        {
            var types = typesValue.AsArray<int>();
            for (var i = 0; i < types.Count; i++)
            {
                if (types[i] is < 0 or > MaxTokenType)
                {
                    throw Fail(m, $"token {i} has token type {types[i]}, outside llama_token_type 0..{MaxTokenType}");
                }

                if (types[i] == ByteTokenType && !IsByteToken(model, tokens[i]))
                {
                    throw Fail(m, $"token {i} '{Escape(tokens[i])}' has type BYTE but is not a byte token ({(model == "llama" ? "'<0xNN>'" : "one byte-level character")}); llama.cpp's token_to_byte fails on it");
                }
            }
        }

        if (model == "llama")
        {
            for (var b = 0; b < 256; b++)
            {
                var text = VocabularyBuilder.ByteTokenText((byte)b);
                if (!ids.ContainsKey(text))
                {
                    throw Fail(m, $"the SentencePiece vocabulary lacks the byte-fallback token '{text}'; llama.cpp's tokenizer throws through its C API on text that needs it");
                }
            }
        }
        else if (m.File.Get(WellKnownMetadata.Merges) is null)
        {
            throw Fail(m, $"the BPE vocabulary has no '{WellKnownMetadata.Merges}'");
        }

        foreach (var name in SpecialIdKeys)
        {
            var key = "tokenizer.ggml." + name;
            var id = m.OptionalUInt32(key, GgufError.InvalidVocabulary) ?? DefaultId(model, name);
            if (id is { } value && value >= tokens.Count)
            {
                throw Fail(m, $"'{key}' is {value} (or defaults to it), outside the vocabulary of {tokens.Count} tokens");
            }
        }

        foreach (var flag in new[] { "add_bos_token", "add_eos_token", "add_sep_token", "add_space_prefix", "remove_extra_whitespaces" })
        {
            m.OptionalBool("tokenizer.ggml." + flag, GgufError.InvalidVocabulary);
        }

        return tokens.Count;
    }

    /// <summary>llama.cpp's default special ids when the key is absent: SPM bos 1, eos 2, unk 0; BPE bos/eos 11.</summary>
    private static uint? DefaultId(string model, string name) => (model, name) switch
    {
        ("llama", "bos_token_id") => 1,
        ("llama", "eos_token_id") => 2,
        ("llama", "unknown_token_id") => 0,
        ("gpt2", "bos_token_id") => 11,
        ("gpt2", "eos_token_id") => 11,
        _ => null,
    };

    private static bool IsByteToken(string model, string text)
    {
        if (model == "llama")
        {
            return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
                && Uri.IsHexDigit(text[3]) && Uri.IsHexDigit(text[4]);
        }

        // GPT-2 byte-level BPE: every byte is one code point; printable Latin-1 bytes map to themselves, the rest to U+0100 + n.
        var runes = text.EnumerateRunes().ToArray();
        return runes.Length == 1 && runes[0].Value is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF) or (>= 0x100 and <= 0x143);
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s.Length > 40 ? s[..40] : s)
        {
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return sb.ToString();
    }

    private static GgufFormatException Fail(ModelMetadata m, string reason) => m.Fail(GgufError.InvalidVocabulary, reason);
}
