using Grpc.Core;
using Grpc.Health.V1;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>API keys on the gRPC listener: "authorization: Bearer" metadata, the key's name as the request's user.</summary>
public sealed class GrpcAuthTests
{
    private static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    [Fact]
    public async Task Generate_needs_a_valid_key_and_health_needs_none()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));

        foreach (var headers in new Metadata?[] { null, Bearer("sk-wrong"), new() { { "authorization", "Basic YWxpY2U6eA==" } } })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(request, headers)));
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }

        var chatError = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Chat(GrpcTestClient.GreedyChat("scripted", (Contracts.V1.ChatRole.User, "Hi")))));
        Assert.Equal(StatusCode.Unauthenticated, chatError.StatusCode);

        var ok = await GrpcTestClient.ReadAllAsync(client.Generate(request, Bearer(AliceKey)));
        Assert.Equal(" Hello world!", ok.Text);
        var chat = await GrpcTestClient.ReadAllAsync(client.Chat(GrpcTestClient.GreedyChat("scripted", (Contracts.V1.ChatRole.User, "Hi")), Bearer(BobKey)));
        Assert.Equal("Hello world!", chat.Text);

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task The_authenticated_key_name_is_the_engine_user_on_both_transports_whatever_the_request_claims()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(), apiKey: AliceKey);
        var users = new List<string?>();
        server.Engine.GenerationCompleted += record =>
        {
            lock (users)
            {
                users.Add(record.Request.User);
            }
        };
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var generate = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));
        generate.User = "alice";
        await GrpcTestClient.ReadAllAsync(client.Generate(generate, Bearer(BobKey)));
        var chat = GrpcTestClient.GreedyChat("scripted", (Contracts.V1.ChatRole.User, "Hi"));
        chat.User = "someone-else";
        await GrpcTestClient.ReadAllAsync(client.Chat(chat, Bearer(BobKey)));
        var (response, body) = await Server.Http.OpenAi.OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":0,"user":"bob"}""");
        body.Dispose();
        Assert.True(response.IsSuccessStatusCode);
        (response, body) = await Server.Http.OpenAi.OpenAiTestSupport.PostJsonAsync(server, "v1/completions", """{"model":"scripted","prompt":"[INST] Hi [/INST]","temperature":0,"user":"bob"}""");
        body.Dispose();
        Assert.True(response.IsSuccessStatusCode);

        await EngineHarness.WaitUntilAsync(() => { lock (users) { return users.Count == 4; } }, TimeSpan.FromSeconds(30), "four generations recorded");
        lock (users)
        {
            Assert.Equal(["alice", "alice", "bob", "bob"], users.Order(StringComparer.Ordinal));
        }
    }
}
