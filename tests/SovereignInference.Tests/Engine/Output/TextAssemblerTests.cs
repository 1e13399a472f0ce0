using System.Text;
using SovereignInference.Engine.Output;

namespace SovereignInference.Tests.Engine.Output;

/// <summary>The per-request output stage: token bytes in, text that is safe to send out (whole characters, no stop string).</summary>
public sealed class TextAssemblerTests
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void A_character_split_across_tokens_is_emitted_once_it_is_whole()
    {
        var assembler = new TextAssembler([]);
        var euro = Bytes("€"); // three bytes

        Assert.Equal("a", assembler.Push([(byte)'a', euro[0]]));
        Assert.Equal("", assembler.Push(euro.AsSpan(1, 1)));
        Assert.Equal("€b", assembler.Push([euro[2], (byte)'b']));
        Assert.Equal("", assembler.Flush());
    }

    [Fact]
    public void A_stop_string_split_across_tokens_is_never_emitted_and_ends_the_output()
    {
        var assembler = new TextAssembler(["END"]);

        Assert.Equal("abc ", assembler.Push(Bytes("abc E")));
        Assert.False(assembler.Stopped);
        Assert.Equal("", assembler.Push(Bytes("ND and more")));

        Assert.True(assembler.Stopped);
        Assert.Equal("END", assembler.MatchedStop);
        Assert.Equal("", assembler.Push(Bytes("later")));
        Assert.Equal("", assembler.Flush());
    }

    [Fact]
    public void Held_text_that_does_not_become_a_stop_string_is_released()
    {
        var assembler = new TextAssembler(["END"]);

        Assert.Equal("x", assembler.Push(Bytes("xEN")));
        Assert.Equal("ENZ", assembler.Push(Bytes("Z")));
        Assert.Equal("y", assembler.Push(Bytes("yE")));

        Assert.Equal("E", assembler.Flush()); // at the end nothing can complete it any more
        Assert.Null(assembler.MatchedStop);
    }

    [Fact]
    public void Flush_turns_an_unfinished_character_into_a_replacement_character()
    {
        var assembler = new TextAssembler([]);

        Assert.Equal("a", assembler.Push([(byte)'a', 0xE2, 0x82]));

        Assert.Equal("\uFFFD", assembler.Flush());
    }
}
