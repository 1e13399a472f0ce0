using System.Text;
using BenchmarkDotNet.Attributes;
using SovereignInference.Engine.Output;

namespace SovereignInference.Benchmarks;

/// <summary>
/// The per-token output stage after the scheduler: UTF-8 bytes of one token to whole characters, then stop-string
/// hold-back. Each operation is one token of a cycle of 64 English-like tokens (every 8th splits a multi-byte character).
/// </summary>
public class OutputBenchmarks
{
    private static readonly string[] Words =
    [
        " the", " quick", " brown", " fox", " jumps", " over", " lazy", " dog", ".", "\n", " It", " was", " a",
        " bright", " cold", " day", " in", " April", ",", " and", " clocks", " were", " striking", " thirteen",
    ];

    private byte[][] _tokens = [];
    private string[] _texts = [];
    private int _next;
    private Utf8StreamDecoder _decoder = null!;
    private StopMatcher _matcher = null!;
    private TextAssembler _assembler = null!;

    /// <summary>Stop strings of the request: none, one, or four sharing first characters with the text.</summary>
    [Params(0, 1, 4)]
    public int Stops { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var tokens = new List<byte[]>();
        for (var i = 0; i < 64; i++)
        {
            if (i % 8 == 7)
            {
                // "é" (C3 A9) split over two tokens, as byte-fallback vocabularies emit it.
                tokens.Add([0x20, 0xC3]);
                tokens.Add([0xA9]);
                i++;
                continue;
            }

            tokens.Add(Encoding.UTF8.GetBytes(Words[i % Words.Length]));
        }

        _tokens = [.. tokens];
        _texts = [.. _tokens.Select(t => Encoding.UTF8.GetString(t))];
        string[] stops = Stops switch
        {
            0 => [],
            1 => ["\n\nUser:"],
            _ => ["\n\nUser:", "</s>", "###", " the end"],
        };
        _decoder = new Utf8StreamDecoder();
        _matcher = new StopMatcher(stops);
        _assembler = new TextAssembler(stops);
    }

    /// <summary>Utf8StreamDecoder.Append of one token (the returned string is the one allocation).</summary>
    [Benchmark]
    [AllocationBudget(48)]
    public string Utf8Decode() => _decoder.Append(_tokens[_next++ & 63]);

    /// <summary>StopMatcher.Push of one token's text (held text aside, what comes in goes out without a copy).</summary>
    [Benchmark]
    [AllocationBudget(48)]
    public bool StopMatch() => _matcher.Push(_texts[_next++ & 63]).Stopped;

    /// <summary>Both, as TextAssembler runs them per token.</summary>
    [Benchmark]
    [AllocationBudget(96)]
    public string Assemble() => _assembler.Push(_tokens[_next++ & 63]);
}
