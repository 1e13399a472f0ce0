using System.Text;
using SovereignInference.Bench.Sse;

namespace SovereignInference.Tests.Bench;

/// <summary>The bench client's own text/event-stream parser on known byte streams.</summary>
public sealed class SseParserTests
{
    private static List<SseEvent> Parse(params string[] reads)
    {
        var parser = new SseParser();
        var events = new List<SseEvent>();
        for (var i = 0; i < reads.Length; i++)
        {
            parser.Feed(Encoding.UTF8.GetBytes(reads[i]), timestamp: i + 1, events);
        }

        return events;
    }

    [Fact]
    public void Each_blank_line_ends_one_event_stamped_with_the_read_that_completed_it()
    {
        var events = Parse("data: {\"a\":1}\n\ndata: {\"b\"", ":2}\n", "\n");

        Assert.Equal(2, events.Count);
        Assert.Equal(("message", "{\"a\":1}", 1L), (events[0].Type, events[0].Data, events[0].Timestamp));
        Assert.Equal(("message", "{\"b\":2}", 3L), (events[1].Type, events[1].Data, events[1].Timestamp));
    }

    [Fact]
    public void Splitting_the_stream_at_any_byte_gives_the_same_events()
    {
        const string Stream = "data: first\r\n\r\n: keep-alive\n\nevent: x\ndata: line1\ndata:line2\r\rdata: é€😀\n\ndata: [DONE]\n\n";
        var whole = Parse(Stream);
        var bytes = Encoding.UTF8.GetBytes(Stream);

        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var parser = new SseParser();
            var events = new List<SseEvent>();
            parser.Feed(bytes.AsSpan(0, cut), 1, events);
            parser.Feed(bytes.AsSpan(cut), 2, events);
            Assert.Equal(whole.Select(e => (e.Type, e.Data)), events.Select(e => (e.Type, e.Data)));
        }

        var oneByteAtATime = new SseParser();
        var single = new List<SseEvent>();
        foreach (var b in bytes)
        {
            oneByteAtATime.Feed([b], 1, single);
        }

        Assert.Equal(whole.Select(e => (e.Type, e.Data)), single.Select(e => (e.Type, e.Data)));
        Assert.Equal(
            new[] { ("message", "first"), ("x", "line1\nline2"), ("message", "é€😀"), ("message", "[DONE]") },
            whole.Select(e => (e.Type, e.Data)));
        Assert.True(whole[^1].IsDone);
    }

    [Fact]
    public void A_crlf_split_across_reads_is_one_line_break()
    {
        // "\r" ends the first read; the "\n" that follows must not read as an empty line (which would end the event early).
        var events = Parse("data: a\r", "\ndata: b\r", "\n\r", "\n");

        var only = Assert.Single(events);
        Assert.Equal("a\nb", only.Data);
        Assert.Equal(3, only.Timestamp); // the lone "\r" of read 3 is the blank line; the "\n" of read 4 belongs to it
    }

    [Fact]
    public void Comments_and_keep_alives_produce_no_events()
    {
        var events = Parse(": ping\n\n", ":\n\n", ": keep-alive\r\n\r\n", "data: x\n: comment inside an event\n\n");

        var only = Assert.Single(events);
        Assert.Equal("x", only.Data);
        Assert.Equal(4, only.Timestamp);
    }

    [Fact]
    public void Event_error_and_llama_cpp_error_lines_are_error_events()
    {
        var events = Parse("event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n", "error: {\"message\":\"kaput\"}\n\n");

        Assert.Equal(new[] { "error", "error" }, events.Select(e => e.Type));
        Assert.Equal("{\"message\":\"kaput\"}", events[1].Data);
    }

    [Fact]
    public void A_byte_order_mark_and_unknown_fields_are_ignored_and_an_unterminated_event_is_reported_on_complete()
    {
        var parser = new SseParser();
        var events = new List<SseEvent>();
        parser.Feed([0xEF, 0xBB, 0xBF, .. "id: 7\nretry: 10\ndata: x\n\ndata: partial"u8], 1, events);

        Assert.Equal("x", Assert.Single(events).Data);
        Assert.True(parser.Complete());
        Assert.False(parser.Complete());
    }
}
