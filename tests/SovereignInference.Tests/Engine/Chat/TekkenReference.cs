using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// An independent reading of a tekken.json, encoding as mistral-common's Tekkenizer does (tiktoken): split the text
/// with config.pattern, take a piece whole when it is a token, else merge the adjacent pair whose concatenation has
/// the lowest rank until none is a token; ids are ranks plus default_num_special_tokens. Decoding drops special tokens
/// (mistral-common's default policy IGNORE). Written from the format, not from the server's own code.
/// </summary>
/// <remarks>.NET's regex runs on UTF-16: an astral character (emoji) directly followed by a letter splits differently
/// from tiktoken, so test texts keep a space or punctuation after emoji.</remarks>
internal sealed class TekkenReference
{
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly List<byte[]> _bytes = [];
    private readonly Regex _pattern;

    public TekkenReference(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var config = root.GetProperty("config");
        NumSpecialTokens = config.GetProperty("default_num_special_tokens").GetInt32();
        var inner = config.GetProperty("default_vocab_size").GetInt32() - NumSpecialTokens;
        foreach (var token in root.GetProperty("vocab").EnumerateArray().Take(inner))
        {
            var bytes = Convert.FromBase64String(token.GetProperty("token_bytes").GetString()!);
            _ranks[Convert.ToHexString(bytes)] = token.GetProperty("rank").GetInt32();
            _bytes.Add(bytes);
        }

        foreach (var special in root.GetProperty("special_tokens").EnumerateArray())
        {
            Specials[special.GetProperty("token_str").GetString()!] = special.GetProperty("rank").GetInt32();
        }

        _pattern = new Regex(config.GetProperty("pattern").GetString()!, RegexOptions.CultureInvariant);
    }

    public int NumSpecialTokens { get; }

    /// <summary>Special token ids by text.</summary>
    public Dictionary<string, int> Specials { get; } = new(StringComparer.Ordinal);

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match m in _pattern.Matches(text))
        {
            var piece = Encoding.UTF8.GetBytes(m.Value);
            if (_ranks.TryGetValue(Convert.ToHexString(piece), out var whole))
            {
                ids.Add(whole + NumSpecialTokens);
                continue;
            }

            var parts = piece.Select(b => new[] { b }).ToList();
            while (true)
            {
                var best = -1;
                var bestRank = int.MaxValue;
                for (var i = 0; i + 1 < parts.Count; i++)
                {
                    if (_ranks.TryGetValue(Convert.ToHexString([.. parts[i], .. parts[i + 1]]), out var rank) && rank < bestRank)
                    {
                        best = i;
                        bestRank = rank;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                parts[best] = [.. parts[best], .. parts[best + 1]];
                parts.RemoveAt(best + 1);
            }

            ids.AddRange(parts.Select(p => _ranks[Convert.ToHexString(p)] + NumSpecialTokens));
        }

        return [.. ids];
    }

    /// <summary>The bytes of a token (empty for special tokens).</summary>
    public byte[] Bytes(int id) => id < NumSpecialTokens ? [] : _bytes[id - NumSpecialTokens];

    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString([.. ids.SelectMany(Bytes)]);
}
