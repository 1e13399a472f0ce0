namespace SovereignInference.Engine.Abstractions;

/// <summary>A model's vocabulary. Thread-safe: callers tokenize on their own threads.</summary>
public interface ITokenizer
{
    /// <summary>Number of tokens in the vocabulary.</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence token, or -1.</summary>
    int BosToken { get; }

    /// <summary>End-of-sequence token, or -1.</summary>
    int EosToken { get; }

    /// <summary>Whether the tokenizer adds BOS by default.</summary>
    bool AddBosByDefault { get; }

    /// <summary>Tokenizes text; <paramref name="parseSpecial"/> lets control-token text like "[INST]" map to its token.</summary>
    int[] Tokenize(string text, bool addBos, bool parseSpecial);

    /// <summary>The UTF-8 bytes a token renders to in output (empty for control tokens). May end inside a character.</summary>
    ReadOnlySpan<byte> GetPieceBytes(int token);

    /// <summary>The token's text as stored in the vocabulary (for tokenize endpoints and debugging).</summary>
    string GetPieceText(int token);

    /// <summary>Whether sampling this token ends generation (EOS, EOT and the like).</summary>
    bool IsEndOfGeneration(int token);
}
