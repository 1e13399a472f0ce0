using System.Text;
using SovereignInference.Engine.Output;

namespace SovereignInference.Tests.Engine.Output;

public class StopMatcherTests
{
    /// <summary>Pushes the pieces and returns everything emitted (plus the flush when no stop), the stop flag and the match.</summary>
    private static (string Text, bool Stopped, string? Match) Stream(StopMatcher matcher, IEnumerable<string> pieces)
    {
        var emitted = new StringBuilder();
        StopMatchResult last = default;
        foreach (var piece in pieces)
        {
            last = matcher.Push(piece);
            emitted.Append(last.Emit);
            if (last.Stopped)
            {
                break;
            }
        }

        if (!last.Stopped)
        {
            emitted.Append(matcher.Flush());
        }

        return (emitted.ToString(), last.Stopped, last.MatchedStop);
    }

    [Fact]
    public void Without_stops_text_passes_through_unchanged()
    {
        var matcher = new StopMatcher([]);
        var text = "hello";
        var result = matcher.Push(text);
        Assert.Same(text, result.Emit);
        Assert.False(result.Stopped);
        Assert.Null(result.MatchedStop);
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Empty_stop_strings_are_ignored()
    {
        var matcher = new StopMatcher(["", "END"]);
        Assert.Equal(new StopMatchResult("abc", false, null), matcher.Push("abc"));
        Assert.Equal(new StopMatchResult("x", true, "END"), matcher.Push("xEND"));
    }

    [Fact]
    public void Stop_spanning_several_pushes_is_caught_and_never_emitted()
    {
        var matcher = new StopMatcher(["</s>"]);
        Assert.Equal(new StopMatchResult("Hello ", false, null), matcher.Push("Hello <"));
        Assert.Equal(new StopMatchResult(string.Empty, false, null), matcher.Push("/"));
        Assert.Equal(new StopMatchResult(string.Empty, false, null), matcher.Push("s"));
        Assert.Equal(new StopMatchResult(string.Empty, true, "</s>"), matcher.Push("> and more"));
        Assert.True(matcher.Stopped);
        Assert.Equal("</s>", matcher.MatchedStop);
    }

    [Fact]
    public void Text_before_a_stop_in_the_same_push_as_held_text_is_emitted()
    {
        var matcher = new StopMatcher(["STOP"]);
        Assert.Equal("a ", matcher.Push("a ST").Emit);
        Assert.Equal(new StopMatchResult("STb ", true, "STOP"), matcher.Push("b STOP c"));
    }

    [Fact]
    public void Partial_prefix_that_is_not_a_stop_is_emitted_later_and_nothing_is_lost()
    {
        var matcher = new StopMatcher(["</s>"]);
        Assert.Equal("a ", matcher.Push("a <").Emit);
        Assert.Equal(string.Empty, matcher.Push("/").Emit);
        Assert.Equal("</x y", matcher.Push("x y").Emit);
        Assert.Equal("<", matcher.Push("<").Emit == string.Empty ? matcher.Flush() : "unexpected");
    }

    [Fact]
    public void Held_prefix_that_restarts_a_stop_keeps_only_the_live_part()
    {
        // "<<" : the first '<' can no longer start "</s>", the second still can.
        var matcher = new StopMatcher(["</s>"]);
        Assert.Equal(string.Empty, matcher.Push("<").Emit);
        Assert.Equal("<", matcher.Push("<").Emit);
        Assert.Equal(new StopMatchResult(string.Empty, true, "</s>"), matcher.Push("/s>"));

        // Self-overlapping stop: "aab" inside "aaab".
        var overlap = new StopMatcher(["aab"]);
        Assert.Equal(string.Empty, overlap.Push("aa").Emit);
        Assert.Equal("a", overlap.Push("a").Emit);
        Assert.Equal(new StopMatchResult(string.Empty, true, "aab"), overlap.Push("b"));
    }

    [Fact]
    public void Flush_returns_held_text_when_generation_ends_without_stop()
    {
        var matcher = new StopMatcher(["###"]);
        Assert.Equal("answer ", matcher.Push("answer ##").Emit);
        Assert.Equal("##", matcher.Flush());
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Stop_at_the_very_start()
    {
        var matcher = new StopMatcher(["\n\n"]);
        Assert.Equal(new StopMatchResult(string.Empty, true, "\n\n"), matcher.Push("\n\nrest"));
    }

    [Fact]
    public void Text_after_the_stop_is_discarded()
    {
        var matcher = new StopMatcher(["</s>"]);
        Assert.Equal(new StopMatchResult("hi", true, "</s>"), matcher.Push("hi</s>bye"));
        Assert.Equal(new StopMatchResult(string.Empty, true, "</s>"), matcher.Push("more"));
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void When_one_stop_is_a_prefix_of_another_the_shorter_completes_first()
    {
        Assert.Equal(new StopMatchResult("x", true, "ab"), new StopMatcher(["abc", "ab"]).Push("xabc"));

        var streamed = new StopMatcher(["ab", "abc"]);
        Assert.Equal("x", streamed.Push("xa").Emit);
        Assert.Equal(new StopMatchResult(string.Empty, true, "ab"), streamed.Push("bc"));
    }

    [Fact]
    public void Earliest_completing_stop_wins_and_at_equal_end_the_longest()
    {
        // "b" completes before "abc" when reading left to right.
        Assert.Equal(new StopMatchResult("a", true, "b"), new StopMatcher(["abc", "b"]).Push("abc"));

        // "bc" and "abc" complete on the same character: the longer one cuts more.
        Assert.Equal(new StopMatchResult("x", true, "abc"), new StopMatcher(["bc", "abc"]).Push("xabc"));
    }

    [Fact]
    public void Hold_covers_the_longest_live_prefix_across_all_stops()
    {
        var matcher = new StopMatcher(["abcd", "cx"]);
        Assert.Equal("z", matcher.Push("zabc").Emit);
        Assert.Equal(new StopMatchResult("ab", true, "cx"), matcher.Push("x"));
    }

    [Fact]
    public void Unicode_stops_match_across_pushes()
    {
        var cjk = new StopMatcher(["终止"]);
        Assert.Equal("好的", cjk.Push("好的终").Emit);
        Assert.Equal(new StopMatchResult(string.Empty, true, "终止"), cjk.Push("止了"));

        var emoji = new StopMatcher(["🛑"]);
        Assert.Equal("go ", emoji.Push("go 🚦").Emit[..3]);
        Assert.Equal(new StopMatchResult(" ", true, "🛑"), emoji.Push(" 🛑 after"));

        var accent = new StopMatcher(["café"]);
        Assert.Equal(string.Empty, accent.Push("caf").Emit);
        Assert.Equal("cafe", accent.Push("e").Emit);
    }

    [Fact]
    public void Emoji_stop_split_between_surrogates_is_held()
    {
        var matcher = new StopMatcher(["😀"]);
        Assert.Equal("a", matcher.Push("a\uD83D").Emit);
        Assert.Equal(new StopMatchResult(string.Empty, true, "😀"), matcher.Push("\uDE00b"));
    }

    [Fact]
    public void Any_split_gives_the_same_result_as_a_reference_scan()
    {
        var random = new Random(17);
        const string alphabet = "ab<>/s";
        for (var round = 0; round < 2000; round++)
        {
            var stops = Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => new string(Enumerable.Range(0, random.Next(1, 5)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()))
                .ToArray();
            var text = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());

            // Reference: the first stop to complete reading left to right; ties at the same end go to the longest.
            string? expectedStop = null;
            var expectedText = text;
            for (var end = 1; end <= text.Length && expectedStop is null; end++)
            {
                foreach (var stop in stops.OrderByDescending(s => s.Length))
                {
                    if (end >= stop.Length && string.CompareOrdinal(text, end - stop.Length, stop, 0, stop.Length) == 0)
                    {
                        expectedStop = stop;
                        expectedText = text[..(end - stop.Length)];
                        break;
                    }
                }
            }

            var pieces = new List<string>();
            for (var i = 0; i < text.Length;)
            {
                var length = Math.Min(random.Next(0, 5), text.Length - i);
                pieces.Add(text.Substring(i, length));
                i += length;
            }

            var (emitted, stopped, match) = Stream(new StopMatcher(stops), pieces);
            Assert.Equal(expectedText, emitted);
            Assert.Equal(expectedStop is not null, stopped);
            Assert.Equal(expectedStop, match);
        }
    }

    [Fact]
    public void Validate_accepts_null_empty_and_limits()
    {
        StopMatcher.Validate(null);
        StopMatcher.Validate([]);
        StopMatcher.Validate(["", "x"]);
        StopMatcher.Validate(Enumerable.Repeat("stop", StopMatcher.MaxStops).ToArray());
        StopMatcher.Validate([new string('x', StopMatcher.MaxStopLength)]);
    }

    [Fact]
    public void Validate_rejects_too_many_too_long_or_null_stops()
    {
        var tooMany = Enumerable.Range(0, StopMatcher.MaxStops + 1).Select(i => $"s{i}").ToArray();
        Assert.Equal("stop", Assert.Throws<ArgumentException>(() => StopMatcher.Validate(tooMany)).ParamName);
        Assert.Equal("stop", Assert.Throws<ArgumentException>(() => StopMatcher.Validate([new string('x', StopMatcher.MaxStopLength + 1)])).ParamName);
        Assert.Equal("stop", Assert.Throws<ArgumentException>(() => StopMatcher.Validate(["ok", null!])).ParamName);
        Assert.Equal("stop", Assert.Throws<ArgumentException>(() => new StopMatcher(tooMany)).ParamName);
    }
}
