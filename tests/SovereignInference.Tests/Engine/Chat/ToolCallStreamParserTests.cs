using SovereignInference.Engine.Chat;

namespace SovereignInference.Tests.Engine.Chat;

public sealed class ToolCallStreamParserTests
{
    private const string Output = " [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}, {\"name\": \"now\", \"arguments\": {}}]";

    [Fact]
    public void Parses_a_whole_array_of_calls_with_fresh_mistral_ids()
    {
        var parser = new ToolCallStreamParser();
        parser.Push(Output);

        Assert.True(parser.IsComplete);
        Assert.False(parser.Failed);
        Assert.Collection(
            parser.Calls,
            c => { Assert.Equal("get_weather", c.Name); Assert.Equal("{\"city\": \"Paris\", \"days\": [1, 2]}", c.Arguments); Assert.True(ToolCallIds.IsMistralId(c.Id)); },
            c => { Assert.Equal("now", c.Name); Assert.Equal("{}", c.Arguments); });
    }

    [Fact]
    public void Streaming_one_character_at_a_time_gives_header_then_argument_fragments_that_join_to_the_arguments()
    {
        var parser = new ToolCallStreamParser();
        var deltas = Output.SelectMany(c => parser.Push(c.ToString())).ToList();

        var first = deltas.Where(d => d.Index == 0).ToList();
        Assert.Equal("get_weather", first[0].Name);
        Assert.Equal(parser.Calls[0].Id, first[0].Id);
        Assert.True(first.Count > 3, "arguments arrive in fragments, not one block");
        Assert.All(first.Skip(1), d => Assert.Null(d.Name));
        Assert.Equal(parser.Calls[0].Arguments, string.Concat(first.Select(d => d.Arguments)));
        Assert.Equal("{}", string.Concat(deltas.Where(d => d.Index == 1).Select(d => d.Arguments)));
    }

    [Fact]
    public void Arguments_given_as_a_json_string_are_decoded()
    {
        var parser = new ToolCallStreamParser();
        parser.Push("[{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}]");

        Assert.Equal("{\"a\": 1}", Assert.Single(parser.Calls).Arguments);
    }

    [Theory]
    [InlineData("Sure, here is the weather")]
    [InlineData("[{\"arguments\": {}}]")]
    [InlineData("[{\"name\": 5}]")]
    [InlineData("[{\"name\" \"f\"}]")]
    public void Output_that_is_not_tool_call_json_fails_without_throwing(string output)
    {
        var parser = new ToolCallStreamParser();
        parser.Push(output);

        Assert.True(parser.Failed);
        Assert.Empty(parser.Calls);
        Assert.Equal(output, parser.RawText);
    }
}
