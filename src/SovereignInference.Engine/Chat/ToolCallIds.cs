using System.Security.Cryptography;
using System.Text;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Tool call ids as Mistral models know them: exactly 9 ASCII letters or digits. Ids of other shapes
/// (OpenAI's "call_…", LangChain's UUIDs) are mapped deterministically to 9 characters, so the assistant's call
/// and the tool message that answers it still match after a client round trip.
/// </summary>
public static class ToolCallIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Length of a Mistral tool call id.</summary>
    public const int Length = 9;

    /// <summary>A fresh random id.</summary>
    public static string NewId() => RandomNumberGenerator.GetString(Alphabet, Length);

    /// <summary>Whether <paramref name="id"/> is 9 ASCII letters or digits.</summary>
    public static bool IsMistralId(string? id) => id is { Length: Length } && id.All(char.IsAsciiLetterOrDigit);

    /// <summary>The id itself when it already fits, otherwise 9 characters derived from its SHA-256.</summary>
    public static string ToMistralId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (IsMistralId(id))
        {
            return id;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        var chars = new char[Length];
        for (var i = 0; i < Length; i++)
        {
            chars[i] = Alphabet[hash[i] % Alphabet.Length];
        }

        return new string(chars);
    }
}
