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
}
