using System.Text;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>Token ids as the logprobs fields show them: their text (vocabulary text for control tokens) and UTF-8 bytes.</summary>
internal static class TokenText
{
    public static string Of(ITokenizer tokenizer, int token)
    {
        var bytes = tokenizer.GetPieceBytes(token);
        return bytes.IsEmpty ? tokenizer.GetPieceText(token) : Encoding.UTF8.GetString(bytes);
    }

    public static int[] BytesOf(ITokenizer tokenizer, int token)
    {
        var bytes = tokenizer.GetPieceBytes(token);
        var result = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            result[i] = bytes[i];
        }

        return result;
    }

    public static List<ChatTokenLogprob> Chat(ITokenizer tokenizer, IReadOnlyList<GeneratedToken> tokens) =>
        [.. tokens.Select(t => new ChatTokenLogprob(
            Of(tokenizer, t.Token),
            t.Logprob,
            BytesOf(tokenizer, t.Token),
            (t.TopLogprobs ?? []).Select(a => new ChatTopLogprob(Of(tokenizer, a.Token), a.Logprob, BytesOf(tokenizer, a.Token))).ToList()))];
}
