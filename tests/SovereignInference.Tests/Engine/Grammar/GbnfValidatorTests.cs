using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;

namespace SovereignInference.Tests.Engine.Grammar;

public sealed class GbnfValidatorTests
{
    [Theory]
    [InlineData("root ::= \"yes\" | \"no\"")]
    [InlineData("root ::= item+ # comment\nitem ::= [a-z0-9-] | \"\\x41\" | \"\\u00e9\" | [^\\]]\n")]
    [InlineData("root ::= (\n  \"a\" |\n  \"b\"\n)* \"c\"{2,5} \"d\"{3} \"e\"{1,}")]
    [InlineData("root ::= a\na ::= \"x\" a | ")]
    [InlineData("root ::= .")]
    public void Valid_grammars_pass(string gbnf)
    {
        GbnfValidator.Validate(new GrammarSpec(gbnf));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("# only a comment\n", "no rule")]
    [InlineData("other ::= \"x\"", "no start rule 'root'")]
    [InlineData("root ::= missing", "undefined rule 'missing'")]
    [InlineData("root ::= \"x\"{5,3}", "maximum is below its minimum")]
    [InlineData("root ::= \"x\"{2001}", "above 2000")]
    [InlineData("root ::= \"x\"{50}{50}", "more than 2000 rules")]
    [InlineData("root ::= root \"x\"", "left-recursive")]
    [InlineData("root ::= a \"x\"\na ::= b\nb ::= \"\" | root", "left-recursive")]
    [InlineData("root ::= \"x\"* root", "left-recursive")]
    [InlineData("root ::= <[2]>", "token references")]
    [InlineData("root ::= \"abc", "unterminated")]
    [InlineData("root ::= [abc", "unterminated")]
    [InlineData("root ::= \"\\q\"", "unknown escape")]
    [InlineData("root ::= \"\\x4\"", "hex digits")]
    [InlineData("root ::= *", "without an item")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "defined twice")]
    [InlineData("root ::= \"a\" )", "expecting newline or end")]
    [InlineData("root ::= []", "empty character class")]
    [InlineData("root := \"a\"", "expecting ::=")]
    [InlineData("root ::= \"a\0b\"", "NUL")]
    public void Invalid_grammars_are_rejected_with_the_reason(string gbnf, string reason)
    {
        var error = Assert.Throws<EngineException>(() => GbnfValidator.Validate(new GrammarSpec(gbnf)));

        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal("response_format", error.Param);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unpaired_surrogates_are_rejected()
    {
        var gbnf = "root ::= \"" + '\ud800' + "\"";

        var error = Assert.Throws<EngineException>(() => GbnfValidator.Validate(new GrammarSpec(gbnf)));

        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_rejected_before_it_can_overflow_a_native_stack()
    {
        var gbnf = "root ::= " + new string('(', 10_000) + "\"a\"" + new string(')', 10_000);

        var error = Assert.Throws<EngineException>(() => GbnfValidator.Validate(new GrammarSpec(gbnf)));

        Assert.Contains("nest deeper", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_grammars_are_rejected()
    {
        var gbnf = "root ::= \"" + new string('a', GbnfValidator.MaxLength) + "\"";

        var error = Assert.Throws<EngineException>(() => GbnfValidator.Validate(new GrammarSpec(gbnf)));

        Assert.Contains("at most", error.Message, StringComparison.Ordinal);
    }
}
