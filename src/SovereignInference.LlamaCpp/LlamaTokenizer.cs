using System.Text;
using LLama.Native;
using SovereignInference.Engine.Abstractions;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// The model's vocabulary through llama.cpp. Piece bytes and end-of-generation flags are read once at load,
/// so the per-token path is a table lookup and never calls native code.
/// </summary>
internal sealed class LlamaTokenizer : ITokenizer
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

    public bool IsEndOfGeneration(int token) => (uint)token < (uint)_endOfGeneration.Length && _endOfGeneration[token];
}
