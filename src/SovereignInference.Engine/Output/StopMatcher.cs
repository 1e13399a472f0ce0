using System.Globalization;

namespace SovereignInference.Engine.Output;

/// <summary>
/// Streams generated text through a set of stop strings. Text that might still turn into a stop string is held back,
/// everything else is emitted at once; the stop string itself and anything after it are never emitted.
/// </summary>
/// <remarks>
/// <para>
/// Held text is at most the longest suffix of the pending text that is a proper prefix of some stop string, so the
/// delay is bounded by the longest stop minus one character.
/// </para>
/// <para>
/// The result does not depend on how the text is split into pushes: the match reported is the stop string that
/// completes first when reading the text character by character (earliest end); when several end at the same
/// character, the longest one (earliest start) wins. Matching is ordinal (exact UTF-16).
/// </para>
/// <para>Not thread-safe; one instance per request.</para>
/// </remarks>
public sealed class StopMatcher
{
    /// <summary>Most stop strings one request may give (OpenAI allows 4; llama.cpp servers more).</summary>
    public const int MaxStops = 16;

    /// <summary>Longest accepted stop string, in UTF-16 code units (also bounds how much text is ever held back).</summary>
    public const int MaxStopLength = 256;

    private readonly string[] _stops;
    private char[] _pending;
    private int _pendingLength;
    private string? _matchedStop;

    /// <summary>Creates a matcher; empty strings are ignored, duplicates collapse.</summary>
    /// <exception cref="ArgumentException">The stops break the limits of <see cref="Validate(IReadOnlyList{string}?)"/>.</exception>
    public StopMatcher(IReadOnlyList<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        Validate(stops);

        var kept = new List<string>(stops.Count);
        var maxLength = 0;
        foreach (var stop in stops)
        {
            if (stop.Length > 0 && !kept.Contains(stop))
            {
                kept.Add(stop);
                maxLength = Math.Max(maxLength, stop.Length);
            }
        }

        _stops = [.. kept];
        _pending = new char[Math.Max(16, maxLength * 2)];
    }

    /// <summary>True once a stop string has been found; later pushes emit nothing.</summary>
    public bool Stopped => _matchedStop is not null;

    /// <summary>The stop string found, if any.</summary>
    public string? MatchedStop => _matchedStop;

    /// <summary>
    /// Checks request stop strings: at most <see cref="MaxStops"/> entries, none null, none longer than
    /// <see cref="MaxStopLength"/> characters. Empty strings are allowed (and ignored); null means no stops.
    /// </summary>
    /// <exception cref="ArgumentException">A limit is broken; <see cref="ArgumentException.ParamName"/> is "stop".</exception>
    public static void Validate(IReadOnlyList<string>? stops)
    {
        if (stops is null)
        {
            return;
        }

        if (stops.Count > MaxStops)
        {
            throw Invalid(
                string.Create(CultureInfo.InvariantCulture, $"stop accepts at most {MaxStops} strings, got {stops.Count}."),
                "stop");
        }

        for (var i = 0; i < stops.Count; i++)
        {
            var stop = stops[i];
            if (stop is null)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"stop[{i}] must be a string, got null."), "stop");
            }

            if (stop.Length > MaxStopLength)
            {
                throw Invalid(
                    string.Create(CultureInfo.InvariantCulture, $"stop[{i}] is {stop.Length} characters long; the limit is {MaxStopLength}."),
                    "stop");
            }
        }
    }

    /// <summary>An <see cref="ArgumentException"/> naming the request field "stop" as ParamName.</summary>
    private static ArgumentException Invalid(string message, string field) => new(message, field);

    /// <summary>Adds newly generated text and returns what can be emitted now.</summary>
    public StopMatchResult Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_matchedStop is not null || text.Length == 0)
        {
            return new StopMatchResult(string.Empty, _matchedStop is not null, _matchedStop);
        }

        if (_stops.Length == 0)
        {
            return new StopMatchResult(text, false, null);
        }

        var oldLength = _pendingLength;
        Append(text);
        var pending = _pending.AsSpan(0, _pendingLength);

        // Any stop found now must end inside the new text: the held text contains no complete stop.
        var bestStart = -1;
        var bestEnd = int.MaxValue;
        string? best = null;
        foreach (var stop in _stops)
        {
            var from = Math.Max(0, oldLength - stop.Length + 1);
            var index = pending[from..].IndexOf(stop.AsSpan(), StringComparison.Ordinal);
            if (index < 0)
            {
                continue;
            }

            var start = from + index;
            var end = start + stop.Length;
            if (end < bestEnd || (end == bestEnd && start < bestStart))
            {
                (bestStart, bestEnd, best) = (start, end, stop);
            }
        }

        if (best is not null)
        {
            _matchedStop = best;
            var before = bestStart == 0 ? string.Empty : new string(pending[..bestStart]);
            _pendingLength = 0;
            return new StopMatchResult(before, true, best);
        }

        var hold = LongestHeldSuffix(pending);
        var emitLength = pending.Length - hold;
        if (emitLength == 0)
        {
            return new StopMatchResult(string.Empty, false, null);
        }

        var emit = oldLength == 0 && hold == 0 ? text : new string(pending[..emitLength]);
        pending[emitLength..].CopyTo(_pending);
        _pendingLength = hold;
        return new StopMatchResult(emit, false, null);
    }

    /// <summary>Ends the stream without a stop: returns the held text (empty after a stop) and clears it.</summary>
    public string Flush()
    {
        if (_pendingLength == 0)
        {
            return string.Empty;
        }

        var rest = new string(_pending, 0, _pendingLength);
        _pendingLength = 0;
        return rest;
    }

    /// <summary>Length of the longest suffix of <paramref name="pending"/> that is a proper prefix of a stop string.</summary>
    private int LongestHeldSuffix(ReadOnlySpan<char> pending)
    {
        var hold = 0;
        foreach (var stop in _stops)
        {
            for (var k = Math.Min(stop.Length - 1, pending.Length); k > hold; k--)
            {
                if (pending[^k..].SequenceEqual(stop.AsSpan(0, k)))
                {
                    hold = k;
                    break;
                }
            }
        }

        return hold;
    }

    private void Append(string text)
    {
        var needed = _pendingLength + text.Length;
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(needed, _pending.Length * 2));
        }

        text.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength = needed;
    }
}
