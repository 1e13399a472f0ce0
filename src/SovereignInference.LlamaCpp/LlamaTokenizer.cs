using System.Text;
using LLama;
using LLama.Native;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Admission;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// The model's vocabulary through llama.cpp. Piece bytes and end-of-generation flags are read once at load,
/// so the per-token path is a table lookup and never calls native code.
/// </summary>
internal sealed class LlamaTokenizer : ITokenizer, IChatTemplateApplier
{
    private readonly SafeLlamaModelHandle _model;
    private readonly byte[][] _pieces;
    private readonly bool[] _endOfGeneration;

    public LlamaTokenizer(SafeLlamaModelHandle model)
    {
        _model = model;
        var vocab = model.Vocab;
        VocabSize = vocab.Count;
        BosToken = vocab.BOS is { } bos ? (int)bos : -1;
        EosToken = vocab.EOS is { } eos ? (int)eos : -1;
        AddBosByDefault = vocab.ShouldAddBOS;
        _pieces = new byte[VocabSize][];
        _endOfGeneration = new bool[VocabSize];
        Span<byte> buffer = stackalloc byte[256];
        for (var i = 0; i < VocabSize; i++)
        {
            var token = (LLamaToken)i;
            var written = (int)model.TokenToSpan(token, buffer, 0, false);
            _pieces[i] = written > 0 && written <= buffer.Length ? buffer[..written].ToArray() : [];
            _endOfGeneration[i] = token.IsEndOfGeneration(vocab);
        }
    }

    public int VocabSize { get; }

    public int BosToken { get; }

    public int EosToken { get; }

    public bool AddBosByDefault { get; }

    public int[] Tokenize(string text, bool addBos, bool parseSpecial)
    {
        var tokens = _model.Tokenize(text, addBos, parseSpecial, Encoding.UTF8);
        var result = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            result[i] = (int)tokens[i];
        }

        return result;
    }

    public ReadOnlySpan<byte> GetPieceBytes(int token) => (uint)token < (uint)_pieces.Length ? _pieces[token] : [];

    public string GetPieceText(int token) =>
        (uint)token < (uint)VocabSize ? _model.Vocab.LLamaTokenToString((LLamaToken)token, true) ?? "" : "";

    /// <summary>llama_chat_apply_template with the given or the model's embedded template; null when there is none or llama.cpp does not know it.</summary>
    public string? ApplyChatTemplate(IReadOnlyList<(string Role, string Content)> messages, string? template = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var (role, content) in messages)
        {
            // Validated before native code: llama.cpp takes C strings.
            if (InputChecks.ContainsNul(role) || InputChecks.ContainsNul(content))
            {
                throw new ArgumentException("chat messages must not contain NUL characters", nameof(messages));
            }
        }

        try
        {
            if (InputChecks.ContainsNul(template))
            {
                return null;
            }

            var applier = template is null ? new LLamaTemplate(_model, strict: true) : new LLamaTemplate(template);
            applier.AddAssistant = true;
            foreach (var (role, content) in messages)
            {
                applier.Add(role, content);
            }

            return Encoding.UTF8.GetString(applier.Apply());
        }
        catch (LLama.Exceptions.RuntimeError)
        {
            // TemplateNotFoundException (the GGUF has no template) / MissingTemplateException (llama.cpp knows no
            // built-in format for it): the caller answers 400, not 500.
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public bool IsEndOfGeneration(int token) => (uint)token < (uint)_endOfGeneration.Length && _endOfGeneration[token];
}
