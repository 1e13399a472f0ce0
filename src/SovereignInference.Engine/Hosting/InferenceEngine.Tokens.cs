using System.Text;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;

namespace SovereignInference.Engine.Hosting;

/// <summary>Text and token ids of a model's vocabulary, as the transports' /tokenize, /detokenize (and gRPC twins) ask.</summary>
/// <param name="Ids">The token ids.</param>
/// <param name="Pieces">Each id's piece as text, when asked for.</param>
public sealed record TokenizedText(IReadOnlyList<int> Ids, IReadOnlyList<string>? Pieces);

/// <summary>
/// Tokenize and detokenize for every transport, checked once here before native code sees them: the text holds no
/// NUL and at most <see cref="MaxTokenizeChars"/> characters, every id lies inside the vocabulary.
/// </summary>
public sealed partial class InferenceEngine
{
    /// <summary>Most characters one tokenize call takes.</summary>
    public const int MaxTokenizeChars = 1 << 20;

    /// <summary>
    /// A model with its tokenizer by id (loading it when it never was), or when <paramref name="id"/> is null the first
    /// loaded model, else the first that can load (llama-server's "no model" form).
    /// </summary>
    public ModelEntry GetReadyModelOrFirst(string? id)
    {
        if (id is null)
        {
            var first = Models.FirstOrDefault(m => m.State == ModelState.Ready)
                ?? Models.FirstOrDefault(m => m.Tokenizer is not null)
                ?? Models.FirstOrDefault(m => !m.Unloadable)
                ?? throw new EngineException(EngineErrorCode.ModelNotReady, "No model is ready yet", "model");
            id = first.Id;
        }

        var entry = Manager.Find(id);
        return entry?.Tokenizer is not null ? entry : GetModelAsync(id).GetAwaiter().GetResult();
    }

    /// <param name="addSpecial">Add the model's BOS; null: as the model's tokenizer does by default.</param>
    /// <param name="param">The caller's name of the text field, for errors.</param>
    public TokenizedText Tokenize(string? model, string text, bool? addSpecial, bool parseSpecial, bool withPieces, string param)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entry = GetReadyModelOrFirst(model);
        var tokenizer = entry.Tokenizer ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' is not ready", "model");
        InputChecks.RejectNul(text, param, $"'{param}'");

        if (text.Length > MaxTokenizeChars)
        {
            throw EngineException.Invalid(param, $"'{param}' may hold at most {MaxTokenizeChars} characters");
        }

        var ids = tokenizer.Tokenize(text, addSpecial ?? tokenizer.AddBosByDefault, parseSpecial);
        return new TokenizedText(ids, withPieces ? [.. ids.Select(tokenizer.GetPieceText)] : null);
    }

    /// <param name="ids">Token ids as the caller sent them (64-bit, so out-of-range values are reported, not wrapped).</param>
    /// <param name="param">The caller's name of the id list, for errors ("tokens[3]").</param>
    public string Detokenize(string? model, IReadOnlyList<long> ids, string param)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var entry = GetReadyModelOrFirst(model);
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
