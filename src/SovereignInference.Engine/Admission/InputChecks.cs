using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Admission;

/// <summary>
/// The checks a client's text and token ids pass before native code sees them, written once for every caller
/// (HTTP, gRPC, chat formatting, grammars): llama.cpp takes C strings, so a NUL would silently cut a text short, and
/// an id outside the vocabulary would read outside its tables.
/// </summary>
public static class InputChecks
{
    /// <summary>Whether <paramref name="text"/> holds a NUL character (null holds none).</summary>
    public static bool ContainsNul(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);

    /// <summary>Throws InvalidArgument on <paramref name="param"/>: "<paramref name="subject"/> contains a NUL character".</summary>
    public static void RejectNul(string? text, string param, string subject)
    {
        if (ContainsNul(text))
        {
            throw EngineException.Invalid(param, $"{subject} contains a NUL character");
        }
    }

    /// <summary>Whether <paramref name="id"/> is a token of a vocabulary of <paramref name="vocabSize"/> tokens (64-bit, so nothing wraps).</summary>
    public static bool InVocabulary(long id, int vocabSize) => id >= 0 && id < vocabSize;

    /// <summary>Throws InvalidArgument on <paramref name="param"/>: "<paramref name="subject"/> is outside the vocabulary (0..N-1)".</summary>
    public static void RejectOutsideVocabulary(long id, int vocabSize, string param, string subject)
    {
        if (!InVocabulary(id, vocabSize))
        {
            throw EngineException.Invalid(param, $"{subject} is outside the vocabulary (0..{vocabSize - 1})");
        }
    }
}
