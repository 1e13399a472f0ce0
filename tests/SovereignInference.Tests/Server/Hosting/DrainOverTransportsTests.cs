using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Hosting;

/// <summary>
/// SIGTERM with streams in flight over HTTP SSE and gRPC. Decodes are held (<see cref="HeldBackend"/>) so the
/// streams are certainly still running when the drain begins, whatever the machine's speed.
/// </summary>
public sealed class DrainOverTransportsTests
{
    private const int DrainCutEventId = SovereignInference.Engine.Observability.EngineEventIds.DrainTimeout;

    [Fact]
    public async Task Streams_in_flight_over_sse_and_grpc_finish_when_they_end_within_the_drain_timeout()
    {
        await using var running = await StartStreamsAsync(drainTimeoutSeconds: 120);
        var server = running.Server;

        var stopping = server.StopAsync();
        await EngineHarness.WaitUntilAsync(() => server.Engine.IsDraining, TimeSpan.FromSeconds(30), "draining");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("health/ready")).StatusCode);
        using (var refused = await PostCompletionAsync(server, stream: false))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("shutting_down", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var grpcRefused = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(running.Grpc.Generate(Request())));
        Assert.Equal(StatusCode.Unavailable, grpcRefused.StatusCode);
        Assert.False(stopping.IsCompleted, "shutdown waits for the streams in flight");

        running.Backend.ReleaseDecodes();
        var sse = await running.SseRest;
        var grpc = await running.GrpcRest;
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        var events = OpenAiTestSupport.ParseSse(running.SseFirst + sse);
        Assert.Equal("length", events[^1].RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Null(grpc.Error);
        Assert.Equal(FinishReason.Length, grpc.Responses[^1].Final.FinishReason);
        Assert.Equal(MaxTokens, grpc.Responses[^1].Final.Usage.CompletionTokens);
        Assert.DoesNotContain(server.Logs.Entries, e => e.EventId == DrainCutEventId);
    }

    [Fact]
    public async Task When_the_drain_timeout_runs_out_sse_streams_end_with_a_shutting_down_event_and_grpc_with_unavailable()
    {
        await using var running = await StartStreamsAsync(drainTimeoutSeconds: 1);
        var server = running.Server;

        var stopping = server.StopAsync();
        // The decodes stay held past the timeout; once the drain has given up and cut the streams, they may go on.
        await EngineHarness.WaitUntilAsync(() => server.Logs.Entries.Any(e => e.EventId == DrainCutEventId), TimeSpan.FromSeconds(60), "drain cut logged");
        running.Backend.ReleaseDecodes();
        var sse = await running.SseRest;
        var grpc = await running.GrpcRest;
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        // The cut stream: chunks, then one error event, and no [DONE] (the response did not complete).
        var body = running.SseFirst + sse;
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("data: ", last, StringComparison.Ordinal);
        using var error = JsonDocument.Parse(last["data: ".Length..]);
        Assert.Equal("shutting_down", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("server_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1], e => e.Contains("finish_reason\":\"length", StringComparison.Ordinal));

        Assert.NotNull(grpc.Error);
        Assert.Equal(StatusCode.Unavailable, grpc.Error!.StatusCode);
        Assert.NotEmpty(grpc.Responses);
        Assert.DoesNotContain(grpc.Responses, r => r.Final is not null);
        Assert.Equal(0, server.Engine.InFlight);
    }

    private const int MaxTokens = 400;

    private static GenerateRequest Request() => GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(8), maxTokens: MaxTokens);

    private static Task<HttpResponseMessage> PostCompletionAsync(ServerHarness server, bool stream)
    {
        var prompt = JsonSerializer.Serialize(ScriptedModels.LoopPrompt(8));
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = new StringContent(
                $$"""{"model":"scripted","prompt":{{prompt}},"stream":{{(stream ? "true" : "false")}},"max_tokens":{{MaxTokens}},"temperature":0}""",
                Encoding.UTF8,
                "application/json"),
        };
        return server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>One SSE completion and one gRPC Generate, each past its first token, with decodes then held.</summary>
    private static async Task<RunningStreams> StartStreamsAsync(int drainTimeoutSeconds)
    {
        var backend = new HeldBackend(holdLoads: false);
        var server = await ServerHarness.StartAsync(
            new Dictionary<string, string?> { ["DrainTimeoutSeconds"] = drainTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            services: s => s.AddSingleton<IModelBackend>(backend));
        var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);

        // Open the HTTP/2 connection first, so the SSE stream cannot finish while the gRPC call is still connecting.
        await grpc.ListModelsAsync(new ListModelsRequest());
        var response = await PostCompletionAsync(server, stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = new StringBuilder();
        while (first.ToString().Split("\n\n").Length < 3)
        {
            var line = await reader.ReadLineAsync() ?? throw new InvalidOperationException("SSE ended early: " + first);
            first.Append(line).Append('\n');
        }

        var call = grpc.Generate(Request());
        Assert.True(await call.ResponseStream.MoveNext());
        var firstGrpc = call.ResponseStream.Current;

        backend.HoldDecodes();
        var held = backend.DecodesStarted;
        await EngineHarness.WaitUntilAsync(() => backend.DecodesStarted > held, TimeSpan.FromSeconds(30), "the scheduler reached a held decode");
        Assert.Equal(2, server.Engine.ActiveSequences);

        return new RunningStreams(server, channel, backend, grpc, response, first.ToString(), reader.ReadToEndAsync(), ReadRestAsync(call, firstGrpc));
    }

    private static async Task<GrpcOutcome> ReadRestAsync(AsyncServerStreamingCall<GenerateResponse> call, GenerateResponse first)
    {
        using (call)
        {
            var responses = new List<GenerateResponse> { first };
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    responses.Add(response);
                }

                return new GrpcOutcome(responses, null);
            }
            catch (RpcException ex)
            {
                return new GrpcOutcome(responses, ex);
            }
        }
    }

    private sealed record GrpcOutcome(List<GenerateResponse> Responses, RpcException? Error);

    private sealed record RunningStreams(
        ServerHarness Server,
        global::Grpc.Net.Client.GrpcChannel Channel,
        HeldBackend Backend,
        Inference.InferenceClient Grpc,
        HttpResponseMessage Response,
        string SseFirst,
        Task<string> SseRest,
        Task<GrpcOutcome> GrpcRest) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Backend.ReleaseDecodes();
            Response.Dispose();
            Channel.Dispose();
            await Server.DisposeAsync();
        }
    }
}
