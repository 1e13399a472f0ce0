using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SovereignInference.Server.Http.OpenAi.Streaming;

namespace SovereignInference.Tests.Server.Http.OpenAi.Streaming;

/// <summary>The bytes of the event stream, without a server: OpenAI data lines, typed events, [DONE].</summary>
public sealed class SseWriterTests
{
    private static (SseWriter Writer, MemoryStream Body, HttpContext Context) NewWriter()
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        return (new SseWriter(context), body, context);
    }

    [Fact]
    public async Task Start_sends_event_stream_headers_without_caching_or_proxy_buffering()
    {
        var (writer, _, context) = NewWriter();

        await writer.StartAsync();

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("text/event-stream", context.Response.ContentType);
        Assert.Equal("no-cache", context.Response.Headers.CacheControl.ToString());
        Assert.Equal("no", context.Response.Headers["X-Accel-Buffering"].ToString());
    }

    [Fact]
    public async Task Typed_events_lead_with_their_type_then_the_sequence_number_then_the_payload()
    {
        var (writer, body, _) = NewWriter();
        var payload = new JsonObject { ["delta"] = "a \"quoted\"\nline", ["index"] = 0 };

        await writer.WriteTypedEventAsync("response.output_text.delta", payload, sequenceNumber: 4);
        await writer.WriteTypedEventAsync("message_stop", new JsonObject());
        await writer.WriteDoneAsync();

        Assert.Equal(
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"delta\":\"a \\u0022quoted\\u0022\\nline\",\"index\":0}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            + "data: [DONE]\n\n",
            Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(2, payload.Count); // the caller's payload is copied, not moved
        Assert.Equal(0, (int)payload["index"]!);
    }

    [Fact]
    public async Task Each_event_reaches_the_transport_in_one_write_and_one_flush()
    {
        // Kestrel turns each flush into a chunk and a socket send scheduled on the thread pool: one per token, not four.
        var context = new DefaultHttpContext();
        var body = new CountingStream();
        context.Response.Body = body;
        var writer = new SseWriter(context);
        var chunk = new JsonObject { ["id"] = "cmpl-1", ["choices"] = new JsonArray(new JsonObject { ["text"] = "héllo <b>" }) };

        await writer.WriteAsync(chunk, System.Text.Json.Serialization.Metadata.JsonTypeInfo.CreateJsonTypeInfo<JsonObject>(System.Text.Json.JsonSerializerOptions.Default));
        Assert.Equal((1, 1), (body.Writes, body.Flushes));
        await writer.WriteTypedEventAsync("message_stop", new JsonObject());
        Assert.Equal((2, 2), (body.Writes, body.Flushes));
        await writer.WriteDoneAsync();
        Assert.Equal((3, 3), (body.Writes, body.Flushes));

        Assert.Equal(
            "data: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\"h\\u00E9llo \\u003Cb\\u003E\"}]}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            + "data: [DONE]\n\n",
            Encoding.UTF8.GetString(body.ToArray()));
    }

    private sealed class CountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public int Flushes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Writes++;
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return base.FlushAsync(cancellationToken);
        }
    }
}
