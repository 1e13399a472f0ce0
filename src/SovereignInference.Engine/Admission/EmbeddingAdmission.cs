using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Admission;

/// <summary>
/// An embedding request's inputs, checked and tokenized before any native call: InvalidArgument (param <c>input</c>)
/// for no inputs, an empty input, NUL or a token id outside the vocabulary; PromptTooLong (param <c>input</c>) for an
/// input longer than the embedding context.
/// </summary>
internal static class EmbeddingAdmission
{
    public static int[][] TokenizeInputs(EmbeddingRequest request, ITokenizer tokenizer, int maxTokens)
    {
        if ((request.Texts is null) == (request.TokenInputs is null))
        {
            throw EngineException.Invalid("input", "Give the input either as text or as token ids (exactly one of them)");
        }

        var count = request.Texts?.Count ?? request.TokenInputs!.Count;
        if (count == 0)
        {
            throw EngineException.Invalid("input", "The input is empty; give at least one text or token list");
        }

        if (count > EmbeddingRequest.MaxInputs)
        {
            throw EngineException.Invalid("input", $"The input has {count} items; at most {EmbeddingRequest.MaxInputs} are accepted");
        }

        var result = new int[count][];
        for (var n = 0; n < count; n++)
        {
            var tokens = request.Texts is { } texts ? FromText(texts[n], n, tokenizer) : FromIds(request.TokenInputs![n], n, tokenizer);
            if (tokens.Length == 0)
            {
                throw EngineException.Invalid("input", $"Input {n} has no tokens");
            }

            if (tokens.Length > maxTokens)
            {
                throw new EngineException(
                    EngineErrorCode.PromptTooLong,
                    $"Input {n} has {tokens.Length} tokens but the embedding context holds {maxTokens}",
                    "input");
            }

            result[n] = tokens;
        }

        return result;
    }

    private static int[] FromText(string text, int n, ITokenizer tokenizer)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw EngineException.Invalid("input", $"Input {n} is an empty string");
        }

        InputChecks.RejectNul(text, "input", $"Input {n}");

        return tokenizer.Tokenize(text, tokenizer.AddBosByDefault, parseSpecial: false);
    }

    private static int[] FromIds(IReadOnlyList<int>? ids, int n, ITokenizer tokenizer)
    {
        if (ids is null)
        {
            throw EngineException.Invalid("input", $"Input {n} is null");
        }

        var tokens = new int[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            InputChecks.RejectOutsideVocabulary(ids[i], tokenizer.VocabSize, "input", $"Token id {ids[i]} at index {i} of input {n}");

            tokens[i] = ids[i];
        }

        return tokens;
    }
}
