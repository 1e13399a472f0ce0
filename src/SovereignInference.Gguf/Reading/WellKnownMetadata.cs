namespace SovereignInference.Gguf;

/// <summary>
/// Type checks for metadata keys that llama.cpp reads with asserting accessors (<c>gguf_get_arr_data</c>,
/// <c>gguf_get_arr_str</c>, <c>gguf_get_val_str</c>) or indexes in parallel with the token list; a wrong
/// type or length there aborts the process or reads out of bounds.
/// </summary>
internal static class WellKnownMetadata
{
    public const string Tokens = "tokenizer.ggml.tokens";
    public const string Scores = "tokenizer.ggml.scores";
    public const string TokenTypes = "tokenizer.ggml.token_type";
    public const string Merges = "tokenizer.ggml.merges";

    private static readonly (string Key, GgufValueType Type)[] Scalars =
    [
        ("general.architecture", GgufValueType.String),
        ("general.name", GgufValueType.String),
        ("tokenizer.ggml.model", GgufValueType.String),
        ("tokenizer.ggml.pre", GgufValueType.String),
        ("tokenizer.chat_template", GgufValueType.String),
    ];

    private static readonly (string Key, GgufValueType ElementType)[] Arrays =
    [
        (Tokens, GgufValueType.String),
        (Scores, GgufValueType.Float32),
        (TokenTypes, GgufValueType.Int32),
        (Merges, GgufValueType.String),
    ];

    public static void Validate(IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, BoundedGgufStream input)
    {
        var map = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        foreach (var (k, v) in metadata)
        {
            map[k] = v;
        }

        foreach (var (key, type) in Scalars)
        {
            if (map.TryGetValue(key, out var v) && v.Type != type)
            {
                throw input.Fail(GgufError.InvalidMetadata, $"'{key}' must be a {type} but is {Describe(v)}");
            }
        }

        foreach (var (key, elementType) in Arrays)
        {
            if (map.TryGetValue(key, out var v) && (!v.IsArray || v.ElementType != elementType))
            {
                throw input.Fail(GgufError.InvalidMetadata, $"'{key}' must be an array of {elementType} but is {Describe(v)}");
            }
        }

        if (map.TryGetValue(Tokens, out var tokens))
        {
            foreach (var parallel in new[] { Scores, TokenTypes })
            {
                if (map.TryGetValue(parallel, out var v) && v.ArrayLength != tokens.ArrayLength)
                {
                    throw input.Fail(GgufError.InvalidMetadata,
                        $"'{parallel}' has {v.ArrayLength} elements but '{Tokens}' has {tokens.ArrayLength}");
                }
            }
        }

        if (map.TryGetValue("general.file_type", out var fileType) && !fileType.IsInteger)
        {
            throw input.Fail(GgufError.InvalidMetadata, $"'general.file_type' must be an integer but is {Describe(fileType)}");
        }
    }

    private static string Describe(GgufValue v) => v.IsArray ? $"an array of {v.ElementType}" : $"a {v.Type}";
}
