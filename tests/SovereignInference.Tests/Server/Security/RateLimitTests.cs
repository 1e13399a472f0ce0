using System.Net;
using System.Text.Json;
using SovereignInference.Gguf;
using SovereignInference.Server.Security;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>Per-key limits: requests per minute, tokens per minute, requests in flight.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_key_over_its_token_budget_gets_429_with_Retry_After_while_another_key_is_still_served()
    {
        // The buckets refill continuously: at one token a minute, alice's spent budget stays spent for the whole
        // test however slow the machine (at 40 a minute a token came back every 1.5 s, racing the checks).
        await using var server = await ServerHarness.StartAsync(TwoKeys(
            ("ApiKeys:0:TokensPerMinute", "1"),
            ("ApiKeys:1:TokensPerMinute", "40")));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", AliceKey))).StatusCode);

        // Usage is known when a generation ends: 8 prompt + 40 completion tokens spend alice's budget.
        var updates = await RunAsync(server.Engine.GenerateAsync(Loop("alice", maxTokens: 40)));
        Assert.Equal(48, updates[^1].Usage!.TotalTokens);
        Assert.Equal(0, server.Services.GetRequiredServiceOf<KeyRateLimiter>().TokensAvailable("alice"));

        using var refused = await server.Http.SendAsync(Get("v1/models", AliceKey));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = Assert.Single(refused.Headers.GetValues("Retry-After"));
        Assert.InRange(int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("tokens", body.RootElement.GetProperty("error").GetProperty("type").GetString());

        using var served = await server.Http.SendAsync(Get("v1/models", BobKey));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(40, server.Services.GetRequiredServiceOf<KeyRateLimiter>().TokensAvailable("bob"));
    }

    [Fact]
    public async Task Embedding_tokens_are_charged_to_the_calling_key_over_http_and_grpc()
    {
        // A small budget: the buckets refill continuously (50 a minute, under one token a second), so a refill
        // between the charge and the check cannot hide the charge.
        var settings = TwoKeys(("ApiKeys:0:TokensPerMinute", "50"), ("ApiKeys:1:TokensPerMinute", "50"));
        settings["Model:1"] = TestModels.Tiny().Path;
        settings["Embeddings:0"] = Path.GetFileNameWithoutExtension(TestModels.Tiny().Path);
        await using var server = await ServerHarness.StartAsync(settings);
        var limiter = server.Services.GetRequiredServiceOf<KeyRateLimiter>();
        var model = settings["Embeddings:0"];

        // The body names another user: with keys configured the authenticated key pays, not the name in the body.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings")
        {
            Content = new StringContent($$"""{"model":"{{model}}","input":["hello world","a b c"],"user":"bob"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AliceKey);
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var httpTokens = body.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.InRange(httpTokens, 5, 40);
        Assert.InRange(limiter.TokensAvailable("alice")!.Value, 50 - httpTokens, 50 - httpTokens + 2);
        Assert.Equal(50, limiter.TokensAvailable("bob"));

        using var channel = GrpcTestClient.Channel(server);
        var grpc = await new SovereignInference.Contracts.V1.Inference.InferenceClient(channel).EmbedAsync(
            new SovereignInference.Contracts.V1.EmbedRequest { Model = model, Inputs = { "hello world and a long list of more words" } },
            new global::Grpc.Core.Metadata { { "authorization", $"Bearer {BobKey}" } });
        Assert.InRange(grpc.Usage.PromptTokens, 5, 40);
        Assert.InRange(limiter.TokensAvailable("bob")!.Value, 50 - grpc.Usage.PromptTokens, 50 - grpc.Usage.PromptTokens + 2);
    }

    [Fact]
    public async Task A_key_past_its_requests_per_minute_gets_429_and_the_other_key_is_not_affected()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(("ApiKeys:0:RequestsPerMinute", "3")));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await server.Http.SendAsync(Get("v1/models", AliceKey));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.Contains("Retry-After"));
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", BobKey))).StatusCode);
    }

    [Fact]
    public void Concurrency_permits_are_held_until_the_request_ends()
    {
        var store = new ApiKeyStore([new ApiKey("alice", new byte[32], 0, 2, 0, 1), new ApiKey("bob", new byte[32], 0, 0, 0, 1)]);
        using var limiter = new KeyRateLimiter(store);

        var first = limiter.Admit("alice");
        using var second = limiter.Admit("alice");
        using var third = limiter.Admit("alice");

        Assert.True(first.IsAdmitted);
        Assert.True(second.IsAdmitted);
        Assert.False(third.IsAdmitted);
        Assert.Equal(RateLimitKind.Concurrency, third.RefusedBy);
        first.Dispose();
        using var fourth = limiter.Admit("alice");
        Assert.True(fourth.IsAdmitted);
        var unlimited = Enumerable.Range(0, 50).Select(_ => limiter.Admit("bob")).ToList();
        Assert.All(unlimited, d => Assert.True(d.IsAdmitted));
        unlimited.ForEach(d => d.Dispose());
    }

    [Fact]
    public void Only_limits_some_key_sets_get_a_limiter_and_its_timer()
    {
        // Each partitioned limiter wakes the thread pool every 100 ms while it lives, so a limit no key sets has none.
        var alice = new ApiKey("alice", new byte[32], 0, 0, 0, 1);
        using (var none = new KeyRateLimiter(new ApiKeyStore([alice])))
        {
            Assert.Equal(0, none.LimiterCount);
            var admitted = Enumerable.Range(0, 20).Select(_ => none.Admit("alice")).ToList();
            Assert.All(admitted, d => Assert.True(d.IsAdmitted));
            none.ChargeTokens("alice", 1000);
            Assert.Null(none.TokensAvailable("alice"));
            Assert.Equal(new KeyUsage(20, 0, 1000, 20, null, null), none.Usage(alice));
            admitted.ForEach(d => d.Dispose());
            Assert.Equal(0, none.Usage(alice).InFlight);
        }

        using var keysOff = new KeyRateLimiter(new ApiKeyStore([]));
        Assert.Equal(0, keysOff.LimiterCount);
        using var requestsOnly = new KeyRateLimiter(new ApiKeyStore([new ApiKey("alice", new byte[32], 5, 0, 0, 1), new ApiKey("bob", new byte[32], 0, 0, 0, 1)]));
        Assert.Equal(1, requestsOnly.LimiterCount);
        using var all = new KeyRateLimiter(new ApiKeyStore([new ApiKey("alice", new byte[32], 5, 0, 0, 1), new ApiKey("bob", new byte[32], 0, 2, 100, 1)]));
        Assert.Equal(3, all.LimiterCount);
    }

    [Fact]
    public void Charging_more_tokens_than_remain_empties_the_budget_and_never_goes_below()
    {
        var store = new ApiKeyStore([new ApiKey("alice", new byte[32], 0, 0, 100, 1)]);
        using var limiter = new KeyRateLimiter(store);

        limiter.ChargeTokens("alice", 30);
        Assert.Equal(70, limiter.TokensAvailable("alice"));
        using (var admitted = limiter.Admit("alice"))
        {
            Assert.True(admitted.IsAdmitted);
        }

        limiter.ChargeTokens("alice", 500);
        Assert.Equal(0, limiter.TokensAvailable("alice"));
        using var refused = limiter.Admit("alice");
        Assert.Equal(RateLimitKind.Tokens, refused.RefusedBy);
        Assert.InRange(refused.RetryAfterSeconds, 1, 60);
    }
}

internal static class ServiceProviderExtensions
{
    public static T GetRequiredServiceOf<T>(this IServiceProvider services)
        where T : notnull => (T)(services.GetService(typeof(T)) ?? throw new InvalidOperationException($"no {typeof(T)}"));
}
