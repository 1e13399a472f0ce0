using SovereignInference.Bench.Targets;

namespace SovereignInference.Tests.Bench;

/// <summary>Timing extraction: which events count as output, when they arrived, usage, errors and truncation.</summary>
public sealed class OpenAiStreamReaderTests
{
    private static string Chunk(string text, string? finish = null) =>
        $"data: {{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{{\"index\":0,\"text\":\"{text}\",\"finish_reason\":{(finish is null ? "null" : $"\"{finish}\"")}}}]}}\n\n";

    private const string Usage = "data: {\"id\":\"cmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17}}\n\n";

    /// <summary>Reads the chunks with a clock that returns 1, 2, 3, ... at each read, so read i is "time" i.</summary>
    private static async Task<RequestTrace> ReadAsync(params string[] chunks)
    {
        var trace = new RequestTrace(startTimestamp: 0);
        long now = 0;
        await OpenAiStreamReader.ReadAsync(new ChunkedStream(chunks), trace, () => ++now, CancellationToken.None);
        return trace;
    }

    [Fact]
    public async Task Each_chunk_with_text_is_one_token_event_timed_at_its_read_and_usage_gives_the_count()
    {
        var split = Chunk(" b");
        var trace = await ReadAsync(
            Chunk(" a"),
            split[..20],
            split[20..] + Chunk(" a"),
            ": keep-alive\n\n",
            Chunk(" b") + Chunk(string.Empty, "length"),
            Usage + "data: [DONE]\n\n");

        Assert.True(trace.Succeeded);
        Assert.Equal(new long[] { 1, 3, 3, 5 }, trace.Events.Select(e => e.Timestamp));
        Assert.Equal(5, trace.OutputTokens); // usage wins over the 4 events
        Assert.Equal(12, trace.UsagePromptTokens);
        Assert.Equal(6, trace.EndTimestamp);
    }

    [Fact]
    public async Task Without_a_usage_chunk_output_tokens_are_counted_from_events()
    {
        var trace = await ReadAsync(Chunk(" a") + Chunk(" b"), Chunk(" a", "length"), "data: [DONE]\n\n");

        Assert.True(trace.Succeeded);
        Assert.Null(trace.UsageCompletionTokens);
        Assert.Equal(3, trace.OutputTokens);
    }

    [Fact]
    public async Task A_token_held_as_an_incomplete_utf8_character_is_its_own_event_but_a_bare_finish_chunk_is_not()
    {
        // The server sends one chunk per token; a lone lead byte of a multi-byte character has empty text until the
        // next token completes it. Merging it into the next event would double that inter-token gap.
        var trace = await ReadAsync(
            Chunk(" a"),
            Chunk(string.Empty),
            Chunk("\u00e9"),
            Chunk(string.Empty, "length") + "data: [DONE]\n\n");

        Assert.True(trace.Succeeded);
        Assert.Equal(new long[] { 1, 2, 3 }, trace.Events.Select(e => e.Timestamp));
    }

    [Fact]
    public async Task Chat_delta_content_counts_and_role_only_deltas_do_not()
    {
        var trace = await ReadAsync(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");

        Assert.True(trace.Succeeded);
        Assert.Equal(2, Assert.Single(trace.Events).Timestamp);
    }

    [Fact]
    public async Task An_error_object_in_the_stream_fails_the_request_with_its_message()
    {
        var trace = await ReadAsync(Chunk(" a"), "data: {\"error\":{\"message\":\"backend failed\",\"type\":\"server_error\"}}\n\n", "data: [DONE]\n\n");

        Assert.False(trace.Succeeded);
        Assert.Equal("stream error", trace.FailureKey);
        Assert.Equal("backend failed", trace.FailureMessage);
        Assert.Equal(2, trace.EndTimestamp);
    }

    [Fact]
    public async Task An_error_event_fails_the_request()
    {
        var trace = await ReadAsync(Chunk(" a"), "event: error\ndata: slot unavailable\n\n");

        Assert.Equal("stream error", trace.FailureKey);
        Assert.Equal("slot unavailable", trace.FailureMessage);
    }

    [Fact]
    public async Task A_stream_that_stops_before_a_finish_reason_or_done_is_truncated()
    {
        var trace = await ReadAsync(Chunk(" a"), Chunk(" b"));

        Assert.False(trace.Succeeded);
        Assert.Equal("truncated", trace.FailureKey);
        Assert.Equal(2, trace.Events.Count);
    }

    [Fact]
    public async Task A_finish_reason_without_done_completes_at_end_of_stream()
    {
        var trace = await ReadAsync(Chunk(" a"), Chunk(" b", "length"));

        Assert.True(trace.Succeeded);
        Assert.Equal(3, trace.EndTimestamp);
    }

    [Fact]
    public async Task Data_that_is_not_json_is_a_malformed_response()
    {
        var trace = await ReadAsync("data: <html>\n\n");

        Assert.Equal("malformed response", trace.FailureKey);
    }
}
