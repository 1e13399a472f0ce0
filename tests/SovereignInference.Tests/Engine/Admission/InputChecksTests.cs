using SovereignInference.Engine.Admission;

using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Tests.Engine.Admission;

/// <summary>The one copy of the NUL, vocabulary-range and ready-tokenizer checks every caller uses.</summary>
public sealed class InputChecksTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("plain text", false)]
    [InlineData("a\0b", true)]
    [InlineData("\0", true)]
    public void Nul_anywhere_in_the_text_is_found(string? text, bool expected) =>
        Assert.Equal(expected, InputChecks.ContainsNul(text));

    [Fact]
    public void Rejected_nul_names_the_field_and_the_subject()
    {
        InputChecks.RejectNul("fine", "messages", "messages[0].content");

        var error = Assert.Throws<EngineException>(() => InputChecks.RejectNul("x\0", "messages", "messages[2].content"));

        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal("messages", error.Param);
        Assert.Equal("messages[2].content contains a NUL character", error.Message);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(31, true)]
    [InlineData(32, false)]
    [InlineData(-1, false)]
    [InlineData(4294967296L, false)] // would wrap to 0 as a 32-bit value
    public void Token_ids_are_checked_against_the_vocabulary_without_wrapping(long id, bool expected)
    {
        Assert.Equal(expected, InputChecks.InVocabulary(id, vocabSize: 32));
        if (!expected)
        {
            var error = Assert.Throws<EngineException>(() => InputChecks.RejectOutsideVocabulary(id, 32, "prompt", $"Token id {id}"));
            Assert.Equal($"Token id {id} is outside the vocabulary (0..31)", error.Message);
            Assert.Equal("prompt", error.Param);
        }
    }

    [Fact]
    public void A_model_without_a_tokenizer_is_not_ready()
    {
        var error = Assert.Throws<EngineException>(() => new ModelEntry("m", "/nowhere/m.gguf").ReadyTokenizer());

        Assert.Equal(EngineErrorCode.ModelNotReady, error.Code);
        Assert.Equal("model", error.Param);
    }
}
