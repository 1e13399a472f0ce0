using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Streaming;

namespace SovereignInference.Benchmarks;

/// <summary>
/// One streamed chat-completion chunk as the endpoint writes it per token: the chunk records built, serialized by the
/// source-generated serializer and written as <c>data: {json}\n\n</c> with a flush, into a null response body (the
/// socket is not measured).
/// </summary>
public class SseWriterBenchmarks
{
    private static readonly string[] Texts = [" the", " quick", " brown", " fox", " jumps", " over", " lazy", " dog"];
    private SseWriter _writer = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = Stream.Null;
        _writer = new SseWriter(context);
    }

    [Benchmark]
    [AllocationBudget(1024)]
    public Task WriteTokenChunk()
    {
        var chunk = new ChatCompletionChunk(
            "chatcmpl-0123456789abcdef",
            1_796_191_131,
            "bench100m",
            [new ChatChunkChoice(0, new ChatDelta(null, Texts[_next++ & 7]), null, null)]);
        return _writer.WriteAsync(chunk, OpenAiJsonContext.Default.ChatCompletionChunk);
    }
}
