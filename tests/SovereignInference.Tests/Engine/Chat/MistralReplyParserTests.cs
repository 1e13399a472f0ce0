using System.Text;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>Replies split into answer, thinking and tool calls for every format, however the text is chunked.</summary>
public sealed class MistralReplyParserTests
{
    private sealed record Result(string Content, string Reasoning, List<ToolCallDelta> Deltas, IReadOnlyList<ChatToolCall> Calls, ChatFinish Finish);

    private static Result Run(bool argsFormat, IEnumerable<string> chunks, string prefill = "", FinishReason finish = FinishReason.Stop)
    {
        var assembler = new ChatStreamAssembler(argsFormat, prefill);
        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var deltas = new List<ToolCallDelta>();
        var list = chunks.ToList();
        for (var i = 0; i <= list.Count; i++)
        {
            var update = i < list.Count ? new GenerationUpdate { Text = list[i] } : new GenerationUpdate { Finish = finish };
            var delta = assembler.Apply(update);
            content.Append(delta.Content);
            reasoning.Append(delta.Reasoning);
            deltas.AddRange(delta.ToolCalls);
        }

        Assert.Equal(content.ToString(), assembler.Content);
        Assert.Equal(reasoning.ToString(), assembler.Reasoning);
        return new Result(content.ToString(), reasoning.ToString(), deltas, assembler.Calls, assembler.FinishReason);
    }

    private static IEnumerable<string> Chars(string text) => text.Select(c => c.ToString());

    public static TheoryData<int> ChunkSizes => new() { 1, 2, 3, 5, 1000 };

    private static IEnumerable<string> Chunked(string text, int size) =>
        Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - (i * size))));

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void V11_calls_stream_as_openai_deltas_with_parallel_calls(int size)
    {
        const string reply = "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"days\": [1, 2]}[TOOL_CALLS]get_time[CALL_ID]abcdefghi[ARGS]{}";

        var r = Run(argsFormat: true, Chunked(reply, size));

        Assert.Equal(ChatFinish.ToolCalls, r.Finish);
        Assert.Equal("", r.Content);
        Assert.Equal(2, r.Calls.Count);
        Assert.Equal(("get_weather", "{\"city\": \"Paris\", \"days\": [1, 2]}"), (r.Calls[0].Name, r.Calls[0].Arguments));
        Assert.Equal(("abcdefghi", "get_time", "{}"), (r.Calls[1].Id, r.Calls[1].Name, r.Calls[1].Arguments));
        Assert.True(ToolCallIds.IsMistralId(r.Calls[0].Id));
        var headers = r.Deltas.Where(d => d.Name is not null).ToList();
        Assert.Equal([(0, "get_weather"), (1, "get_time")], headers.Select(h => (h.Index, h.Name!)));
        Assert.Equal(r.Calls[0].Id, headers[0].Id);
        Assert.Equal(r.Calls[0].Arguments, string.Concat(r.Deltas.Where(d => d.Index == 0).Select(d => d.Arguments)));
        Assert.Equal("{}", string.Concat(r.Deltas.Where(d => d.Index == 1).Select(d => d.Arguments)));
        Assert.True(r.Deltas.IndexOf(headers[0]) < r.Deltas.FindIndex(d => d.Index == 0 && d.Arguments.Length > 0));
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void Json_list_calls_of_v3_and_v7_stream_in_parallel(int size)
    {
        const string reply = "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"x\": 1}}]";

        var r = Run(argsFormat: false, Chunked(reply, size));

        Assert.Equal(ChatFinish.ToolCalls, r.Finish);
        Assert.Equal(["a", "b"], r.Calls.Select(c => c.Name));
        Assert.Equal("{\"x\": 1}", r.Calls[1].Arguments);
        Assert.Equal([0, 1], r.Deltas.Where(d => d.Name is not null).Select(d => d.Index));
    }

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void Thinking_is_returned_apart_from_the_answer(int size)
    {
        var r = Run(argsFormat: true, Chunked("[THINK]Let me see [x]. [/THINK]The answer is [42].", size));

        Assert.Equal("Let me see [x]. ", r.Reasoning);
        Assert.Equal("The answer is [42].", r.Content);
        Assert.Equal(ChatFinish.Stop, r.Finish);
    }

    [Fact]
    public void Thinking_then_a_call()
    {
        var r = Run(argsFormat: true, Chars("[THINK]need weather[/THINK][TOOL_CALLS]w[ARGS]{\"c\": \"P\"}"));

        Assert.Equal("need weather", r.Reasoning);
        Assert.Equal("w", Assert.Single(r.Calls).Name);
    }

    [Fact]
    public void A_v11_model_writing_the_json_list_form_is_read_too()
    {
        var r = Run(argsFormat: true, Chars("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"k\": 2}}]"));

        Assert.Equal(("a", "{\"k\": 2}"), (Assert.Single(r.Calls).Name, r.Calls[0].Arguments));
    }

    [Fact]
    public void A_named_forced_call_continues_after_the_prompt_prefill()
    {
        var r = Run(argsFormat: true, Chars("{\"city\": \"Paris\"}"), prefill: "[TOOL_CALLS]get_weather[ARGS]");

        Assert.Equal(("get_weather", "{\"city\": \"Paris\"}"), (Assert.Single(r.Calls).Name, r.Calls[0].Arguments));
        Assert.Equal(ChatFinish.ToolCalls, r.Finish);
    }

    [Fact]
    public void A_call_left_unfinished_when_the_model_stops_is_handed_back_as_text()
    {
        var r = Run(argsFormat: true, Chars("[TOOL_CALLS]get_weather[ARGS]{\"city\": "));

        Assert.Equal(ChatFinish.Stop, r.Finish);
        Assert.Empty(r.Calls);
        Assert.Equal("get_weather[ARGS]{\"city\": ", r.Content);
    }

    [Fact]
    public void Brackets_and_partial_markers_that_are_not_markers_stay_text()
    {
        var r = Run(argsFormat: true, ["a [TH", "IS] b [/TH", "INKING] [ARG", "S] c ["]);

        Assert.Equal("a [THIS] b [/THINKING] [ARGS] c [", r.Content);
        Assert.Empty(r.Calls);
    }
}
