
namespace SovereignInference.Engine.Output;

/// <summary>
/// Per-request output stage after the scheduler: token bytes → whole UTF-8 characters → stop-string
/// hold-back. What it returns is safe to send to a client as is.
/// </summary>
public sealed class TextAssembler(IReadOnlyList<string> stops)
{
    private readonly Utf8StreamDecoder _utf8 = new();
    private readonly StopMatcher _stop = new(stops);

    public bool Stopped { get; private set; }

    public string? MatchedStop { get; private set; }

    /// <summary>Feeds one token's bytes; returns the text that may be emitted now.</summary>
    public string Push(ReadOnlySpan<byte> tokenBytes)
    {
        if (Stopped)
        {
            return "";
        }

        return Match(_utf8.Append(tokenBytes));
    }

    /// <summary>At the end of generation: releases held bytes and text (unless a stop string ended it).</summary>
    public string Flush()
    {
        if (Stopped)
        {
            return "";
        }

        var text = Match(_utf8.Flush());
        return Stopped ? text : text + _stop.Flush();
    }

    private string Match(string text)
    {
        if (text.Length == 0)
        {
            return "";
        }

        var result = _stop.Push(text);
        if (result.Stopped)
        {
            Stopped = true;
            MatchedStop = result.MatchedStop;
        }

        return result.Emit;
    }
}
