using System.Text;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;

namespace SovereignInference.Engine.Admission;

/// <summary>
/// Tokenize and detokenize for every transport, checked once here before native code sees them: the text holds no
/// NUL and at most <see cref="MaxChars"/> characters, every id lies inside the vocabulary.
/// </summary>
internal sealed class Tokenization(ModelLookup models)
{
    /// <summary>Most characters one tokenize call takes.</summary>
    public const int MaxChars = 1 << 20;

    /// <param name="addSpecial">Add the model's BOS; null: as the model's tokenizer does by default.</param>
    /// <param name="param">The caller's name of the text field, for errors.</param>
    public TokenizedText Tokenize(string? model, string text, bool? addSpecial, bool parseSpecial, bool withPieces, string param)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entry = models.GetReadyModelOrFirst(model);
        var tokenizer = entry.Tokenizer ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' is not ready", "model");
        InputChecks.RejectNul(text, param, $"'{param}'");

        if (text.Length > MaxChars)
        {
            throw EngineException.Invalid(param, $"'{param}' may hold at most {MaxChars} characters");
        }

        var ids = tokenizer.Tokenize(text, addSpecial ?? tokenizer.AddBosByDefault, parseSpecial);
        return new TokenizedText(ids, withPieces ? [.. ids.Select(tokenizer.GetPieceText)] : null);
    }

    /// <param name="ids">Token ids as the caller sent them (64-bit, so out-of-range values are reported, not wrapped).</param>
    /// <param name="param">The caller's name of the id list, for errors ("tokens[3]").</param>
    public string Detokenize(string? model, IReadOnlyList<long> ids, string param)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var entry = models.GetReadyModelOrFirst(model);
        var tokenizer = entry.Tokenizer ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' is not ready", "model");
        var bytes = new List<byte>();
        for (var i = 0; i < ids.Count; i++)
        {
            InputChecks.RejectOutsideVocabulary(ids[i], tokenizer.VocabSize, $"{param}[{i}]", $"'{param}[{i}]' = {ids[i]}");

            bytes.AddRange(tokenizer.GetPieceBytes((int)ids[i]).ToArray());
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
