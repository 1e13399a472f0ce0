using System.Globalization;
using System.Text;
using SovereignInference.Engine.Abstractions;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The vocabulary beside <see cref="ScriptedModelRunner"/>: token n renders as "&lt;n&gt;", the last token is end of
/// generation, there is no BOS. Text is never tokenized (scheduler tests hand over token ids).
/// </summary>
public sealed class ScriptedTokenizer(int vocabSize = 100) : ITokenizer
{
    public int VocabSize { get; } = vocabSize;

    public int BosToken => -1;

    public int EosToken => VocabSize - 1;

    public bool AddBosByDefault => false;

    public int[] Tokenize(string text, bool addBos, bool parseSpecial) =>
        throw new NotSupportedException("scheduler tests pass token ids");

    public ReadOnlySpan<byte> GetPieceBytes(int token) => Encoding.UTF8.GetBytes(GetPieceText(token));

    public string GetPieceText(int token) => string.Create(CultureInfo.InvariantCulture, $"<{token}>");

    public bool IsEndOfGeneration(int token) => token == EosToken;
}
