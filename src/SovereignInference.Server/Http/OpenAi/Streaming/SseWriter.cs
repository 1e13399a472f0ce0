using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;

namespace SovereignInference.Server.Http.OpenAi.Streaming;

/// <summary>
/// Server-sent events as OpenAI writes them: <c>data: {json}\n\n</c> per event, flushed at once, and
/// <c>data: [DONE]\n\n</c> at the end. JSON comes from the source-generated serializers, so it is always escaped.
/// </summary>
internal sealed class SseWriter
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private readonly HttpResponse _response;
    private readonly CancellationToken _cancellationToken;

    public SseWriter(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _response = context.Response;
        _cancellationToken = context.RequestAborted;
    }

    /// <summary>Sends the 200 status and event-stream headers.</summary>
    public async Task StartAsync()
    {
        _response.StatusCode = StatusCodes.Status200OK;
        _response.ContentType = "text/event-stream";
        _response.Headers.CacheControl = "no-cache";
        _response.Headers["X-Accel-Buffering"] = "no";
        _response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await _response.StartAsync(_cancellationToken);
    }

    public async Task WriteAsync<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        await _response.Body.WriteAsync(Prefix, _cancellationToken);
        await _response.Body.WriteAsync(json, _cancellationToken);
        await _response.Body.WriteAsync(Separator, _cancellationToken);
        await _response.Body.FlushAsync(_cancellationToken);
    }

    /// <summary>A named event, as the Responses and Anthropic streams send them: <c>event: name\ndata: {json}\n\n</c>.</summary>
    public async Task WriteEventAsync(string name, System.Text.Json.Nodes.JsonNode data)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes($"event: {name}\ndata: {data.ToJsonString()}\n\n");
        await _response.Body.WriteAsync(bytes, _cancellationToken);
        await _response.Body.FlushAsync(_cancellationToken);
    }

    /// <summary>
    /// A typed event as the Responses and Anthropic Messages streams send them: "event: TYPE" and a data object that
    /// starts with "type": TYPE (then "sequence_number" when given), followed by the payload's fields (copied).
    /// </summary>
    public Task WriteTypedEventAsync(string type, System.Text.Json.Nodes.JsonObject payload, int? sequenceNumber = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var data = new System.Text.Json.Nodes.JsonObject { ["type"] = type };
        if (sequenceNumber is { } sequence)
        {
            data["sequence_number"] = sequence;
        }

        foreach (var (key, value) in payload)
        {
            data[key] = value?.DeepClone();
        }

        return WriteEventAsync(type, data);
    }

    public async Task WriteDoneAsync()
    {
        await _response.Body.WriteAsync(Done, _cancellationToken);
        await _response.Body.FlushAsync(_cancellationToken);
    }
}
