using System.Text.Json;
using SovereignInference.Engine.Embedding;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>How embedding vectors are written: JSON numbers, or base64 of little-endian float32s.</summary>
internal enum EmbeddingEncoding { Float, Base64 }

/// <summary>
/// A validated POST /v1/embeddings body: "input" as a string, an array of strings, an array of token ids or an
/// array of token-id arrays; "encoding_format" "float" (default) or "base64"; "dimensions" only when it is the
/// model's embedding size (checked after embedding).
/// </summary>
internal sealed record EmbeddingsRequest(string Model, EmbeddingRequest Engine, EmbeddingEncoding Encoding, int? Dimensions, string? User)
{
    public static EmbeddingsRequest Parse(JsonElement root)
    {
        var model = String(root, "model") ?? throw Invalid("model", "is required");
        var encoding = String(root, "encoding_format") switch
        {
            null or "float" => EmbeddingEncoding.Float,
            "base64" => EmbeddingEncoding.Base64,
            var other => throw Invalid("encoding_format", $"must be \"float\" or \"base64\" (got '{other}')"),
        };
        var dimensions = (int?)Integer(root, "dimensions", 1, int.MaxValue);
        var request = new EmbeddingRequest { Model = model };
        request = ParseInput(root, request);
        return new EmbeddingsRequest(model, request, encoding, dimensions, String(root, "user"));
    }

    private static EmbeddingRequest ParseInput(JsonElement root, EmbeddingRequest request)
    {
        const string Shape = "must be a string, an array of strings, an array of token ids or an array of token-id arrays";
        if (!TryGet(root, "input", out var input))
        {
            throw Invalid("input", "is required");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            return request with { Texts = [input.GetString()!] };
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            throw Invalid("input", Shape);
        }

        if (input.GetArrayLength() > EmbeddingRequest.MaxInputs)
        {
            throw Invalid("input", $"may hold at most {EmbeddingRequest.MaxInputs} items");
        }

        switch (input[0].ValueKind)
        {
            case JsonValueKind.Number:
                return request with { TokenInputs = [TokenIds(input, "input")] };
            case JsonValueKind.String:
                var texts = new List<string>();
                var i = 0;
                foreach (var item in input.EnumerateArray())
                {
                    texts.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Invalid($"input[{i}]", "must be a string like the other items"));
                    i++;
                }

                return request with { Texts = texts };
            case JsonValueKind.Array:
                var lists = new List<IReadOnlyList<int>>();
                var j = 0;
                foreach (var item in input.EnumerateArray())
                {
                    lists.Add(item.ValueKind == JsonValueKind.Array ? TokenIds(item, $"input[{j}]") : throw Invalid($"input[{j}]", "must be an array of token ids like the other items"));
                    j++;
                }

                return request with { TokenInputs = lists };
            default:
                throw Invalid("input", Shape);
        }
    }
}
