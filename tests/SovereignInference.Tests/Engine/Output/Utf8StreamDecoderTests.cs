using System.Text;
using SovereignInference.Engine.Output;

namespace SovereignInference.Tests.Engine.Output;

public class Utf8StreamDecoderTests
{
    private static void AssertNoBrokenSurrogates(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                Assert.True(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]), $"lone high surrogate at {i} in {s}");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(s[i]), $"lone low surrogate at {i} in {s}");
            }
        }
    }

    [Fact]
    public void Ascii_passes_straight_through()
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal("Hello, world", decoder.Append("Hello, world"u8));
        Assert.Equal(string.Empty, decoder.Append([]));
        Assert.Equal(string.Empty, decoder.Flush());
    }

    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("中")]
    [InlineData("😀")]
    [InlineData("𝄞")]
    [InlineData("a€b😀cé中\U0010FFFF")]
    public void Every_split_point_yields_only_complete_characters(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var decoder = new Utf8StreamDecoder();
            var first = decoder.Append(bytes.AsSpan(0, split));
            var second = decoder.Append(bytes.AsSpan(split));
            var rest = decoder.Flush();

            AssertNoBrokenSurrogates(first);
            AssertNoBrokenSurrogates(second);
            Assert.Equal(string.Empty, rest);
            Assert.Equal(text, first + second);

            // The first part is exactly the characters whose bytes lie wholly before the split.
            var expectedFirst = new StringBuilder();
            var consumed = 0;
            foreach (var rune in text.EnumerateRunes())
            {
                consumed += rune.Utf8SequenceLength;
                if (consumed > split)
                {
                    break;
                }

                expectedFirst.Append(rune.ToString());
            }

            Assert.Equal(expectedFirst.ToString(), first);
        }
    }

    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    [InlineData("👩‍💻 naïve 日本語 🇫🇷")]
    public void Byte_at_a_time_reassembles_the_text(string text)
    {
        var decoder = new Utf8StreamDecoder();
        var result = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var piece = decoder.Append([b]);
            AssertNoBrokenSurrogates(piece);
            result.Append(piece);
        }

        result.Append(decoder.Flush());
        Assert.Equal(text, result.ToString());
    }

    [Fact]
    public void Emoji_split_across_four_appends_appears_on_the_fourth()
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal(string.Empty, decoder.Append([0xF0]));
        Assert.Equal(string.Empty, decoder.Append([0x9F]));
        Assert.Equal(string.Empty, decoder.Append([0x98]));
        Assert.Equal("😀", decoder.Append([0x80]));
    }

    [Fact]
    public void Character_completed_by_a_token_carrying_more_text()
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal("caf", decoder.Append([(byte)'c', (byte)'a', (byte)'f', 0xC3]));
        Assert.Equal("é au lait", decoder.Append([0xA9, .. " au lait"u8]));
    }

    public static TheoryData<byte[], string> InvalidSequences() => new()
    {
        { [0x80], "\uFFFD" },                                   // lone continuation byte
        { [0xBF, 0x41], "\uFFFDA" },
        { [0xC0, 0x80], "\uFFFD\uFFFD" },                       // overlong NUL
        { [0xC1, 0xBF], "\uFFFD\uFFFD" },                       // overlong 2-byte
        { [0xE0, 0x80, 0x80], "\uFFFD\uFFFD\uFFFD" },           // overlong 3-byte
        { [0xF0, 0x80, 0x80, 0x80], "\uFFFD\uFFFD\uFFFD\uFFFD" }, // overlong 4-byte
        { [0xED, 0xA0, 0x80], "\uFFFD\uFFFD\uFFFD" },           // encoded high surrogate U+D800
        { [0xED, 0xBF, 0xBF], "\uFFFD\uFFFD\uFFFD" },           // encoded low surrogate U+DFFF
        { [0xF4, 0x90, 0x80, 0x80], "\uFFFD\uFFFD\uFFFD\uFFFD" }, // U+110000
        { [0xF5, 0x80], "\uFFFD\uFFFD" },
        { [0xFF, 0xFE], "\uFFFD\uFFFD" },
        { [0xC3, 0x41], "\uFFFDA" },                            // bad continuation
        { [0xE2, 0x82, 0x41], "\uFFFDA" },                      // truncated 3-byte: one U+FFFD for the maximal subpart
        { [0xF0, 0x9F, 0x98, 0x41], "\uFFFDA" },
    };

    [Theory]
    [MemberData(nameof(InvalidSequences))]
    public void Invalid_sequences_become_replacement_characters_immediately(byte[] bytes, string expected)
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal(expected, decoder.Append(bytes));
        Assert.Equal(string.Empty, decoder.Flush());
    }

    [Fact]
    public void Invalidity_is_reported_as_soon_as_the_breaking_byte_arrives()
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal(string.Empty, decoder.Append([0xE2, 0x82]));
        Assert.Equal("\uFFFDx", decoder.Append("x"u8));

        // 0xE0 0x80 can never start a valid sequence: no need to wait for a third byte.
        Assert.Equal("\uFFFD\uFFFD", decoder.Append([0xE0, 0x80]));

        // A new lead byte interrupting a sequence: replacement, then the new sequence is held.
        Assert.Equal("\uFFFD", decoder.Append([0xC3, 0xE2]));
        Assert.Equal("€", decoder.Append([0x82, 0xAC]));
    }

    [Fact]
    public void Flush_turns_held_bytes_into_one_replacement_and_resets()
    {
        var decoder = new Utf8StreamDecoder();
        Assert.Equal("ok", decoder.Append([(byte)'o', (byte)'k', 0xF0, 0x9F, 0x98]));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal(string.Empty, decoder.Flush());

        // Reusable after a flush: the held bytes are gone.
        Assert.Equal("A", decoder.Append("A"u8));
        Assert.Equal(string.Empty, decoder.Append([0xC3]));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void Random_bytes_in_random_splits_decode_like_the_whole_buffer()
    {
        var random = new Random(42);
        string[] samples = ["a", "é", "€", "😀", "中", "\U0010FFFF"];
        for (var round = 0; round < 500; round++)
        {
            var bytes = new List<byte>();
            var parts = random.Next(1, 30);
            for (var i = 0; i < parts; i++)
            {
                if (random.Next(4) == 0)
                {
                    bytes.Add((byte)random.Next(256));
                }
                else
                {
                    var encoded = Encoding.UTF8.GetBytes(samples[random.Next(samples.Length)]);
                    bytes.AddRange(random.Next(6) == 0 ? encoded[..^1] : encoded);
                }
            }

            var all = bytes.ToArray();
            var decoder = new Utf8StreamDecoder();
            var result = new StringBuilder();
            var position = 0;
            while (position < all.Length)
            {
                var length = Math.Min(random.Next(0, 6), all.Length - position);
                var piece = decoder.Append(all.AsSpan(position, length));
                AssertNoBrokenSurrogates(piece);
                result.Append(piece);
                position += length;
            }

            result.Append(decoder.Flush());
            Assert.Equal(Encoding.UTF8.GetString(all), result.ToString());
        }
    }

    [Fact]
    public void Large_appends_grow_the_buffer()
    {
        var text = string.Concat(Enumerable.Repeat("héllo wörld 😀 ", 500));
        var bytes = Encoding.UTF8.GetBytes(text);
        var decoder = new Utf8StreamDecoder();
        Assert.Equal(text[..5], decoder.Append(bytes.AsSpan(0, 6)));
        Assert.Equal(text[5..], decoder.Append(bytes.AsSpan(6)));
    }
}
