using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// A failure after the first token (the native backend fails a decode): an SSE stream has already sent
/// 200 and chunks, so it ends with one <c>data: {"error": …}</c> event and no [DONE]; gRPC ends with INTERNAL.
/// </summary>
public sealed class MidStreamErrorTests
{
    [Fact]
    public async Task A_backend_failure_mid_stream_ends_sse_with_an_error_event_and_grpc_with_internal_and_the_server_serves_on()
    {
        var backend = new HeldBackend(holdLoads: false);
        await using var server = await ServerHarness.StartAsync(services: s => s.AddSingleton<IModelBackend>(backend));
        var prompt = JsonSerializer.Serialize(ScriptedModels.LoopPrompt(8));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = new StringContent($$"""{"model":"scripted","prompt":{{prompt}},"stream":true,"max_tokens":200,"temperature":0}""", Encoding.UTF8, "application/json"),
        };

        backend.HoldDecodes();
        var sending = server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await EngineHarness.WaitUntilAsync(() => backend.DecodesStarted >= 1, TimeSpan.FromSeconds(60), "the prompt reached a decode");
        // The prompt's decode (held) gives the first token; the step after it fails.
        backend.FailDecode(backend.DecodesStarted + 1, new EngineException(EngineErrorCode.BackendFailure, "llama_decode returned -1 (test)"));
        backend.ReleaseDecodes();
        using var response = await sending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        Assert.StartsWith("data: {", first, StringComparison.Ordinal);
        var body = first + "\n" + await reader.ReadToEndAsync();

        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain("data: [DONE]", events);
        Assert.True(events.Length >= 2, body);
        Assert.All(events[..^1], e => Assert.Contains("\"text\"", e, StringComparison.Ordinal));
        using var error = JsonDocument.Parse(events[^1]["data: ".Length..]);
        var detail = error.RootElement.GetProperty("error");
        Assert.Equal("server_error", detail.GetProperty("type").GetString());
        Assert.Equal("backend_failure", detail.GetProperty("code").GetString());
        Assert.Contains("llama_decode returned -1 (test)", detail.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        backend.HoldDecodes();
        var before = backend.DecodesStarted;
        using var call = grpc.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(9), maxTokens: 200));
        await EngineHarness.WaitUntilAsync(() => backend.DecodesStarted > before, TimeSpan.FromSeconds(60), "the gRPC prompt reached a decode");
        backend.FailDecode(backend.DecodesStarted + 1, new EngineException(EngineErrorCode.BackendFailure, "llama_decode returned -1 (test)"));
        backend.ReleaseDecodes();
        Assert.True(await call.ResponseStream.MoveNext());
        var failed = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext())
            {
            }
        });
        Assert.Equal(StatusCode.Internal, failed.StatusCode);

        var (after, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":0}""");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("Hello world!", json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }
}
