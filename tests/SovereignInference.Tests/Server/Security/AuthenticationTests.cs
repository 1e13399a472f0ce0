using System.Net;
using System.Text.Json;
using SovereignInference.Server.Hosting;
using SovereignInference.Server.Security;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>API keys on the real server: every route but /health/* needs "Authorization: Bearer".</summary>
public sealed class AuthenticationTests
{
    /// <summary>Routes of this branch plus the OpenAI routes others add: the door stands in front of all of them.</summary>
    private static readonly (HttpMethod Method, string Path)[] ProtectedRoutes =
    [
        (HttpMethod.Get, "v1/models"),
        (HttpMethod.Get, "v1/models/scripted"),
        (HttpMethod.Get, "metrics"),
        (HttpMethod.Post, "v1/chat/completions"),
        (HttpMethod.Post, "v1/completions"),
        (HttpMethod.Post, "v1/embeddings"),
        (HttpMethod.Get, "no/such/route"),
    ];

    [Fact]
    public async Task Every_route_but_health_answers_401_with_an_OpenAI_error_without_a_key_or_with_a_wrong_key()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());

        foreach (var (method, path) in ProtectedRoutes)
        {
            foreach (var header in new[] { null, "Bearer sk-wrong", "Basic YWxpY2U6eA==", "Bearer " })
            {
                using var request = new HttpRequestMessage(method, path);
                if (header is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", header);
                }

                using var response = await server.Http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with '{header}' gave {response.StatusCode}");
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var error = body.RootElement.GetProperty("error");
                Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
                Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
                Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
                Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/ready")).StatusCode);
    }

    [Fact]
    public async Task A_valid_key_is_served_and_each_key_is_accepted()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());

        foreach (var key in new[] { AliceKey, BobKey })
        {
            using var models = await server.Http.SendAsync(Get("v1/models", key));
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            using var metrics = await server.Http.SendAsync(Get("metrics", key));
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // Routes that do not exist yet still say 404 once the key is valid.
        using var missing = await server.Http.SendAsync(Get("no/such/route", AliceKey));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Keys_from_a_key_file_are_hashed_at_rest_and_authenticate()
    {
        using var dir = new TempDirectory();
        var file = dir.File("keys.txt");
        await File.WriteAllTextAsync(file, $"# name:sha256hex\n\nciphers:{ApiKeyStore.HashHex("sk-from-file")}\n");
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["ApiKeyFile"] = file,
            ["ApiKeys:0:Name"] = "cfg",
            ["ApiKeys:0:KeySha256"] = ApiKeyStore.HashHex("sk-from-config"),
        });

        Assert.DoesNotContain("sk-from-file", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", "sk-from-file"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", "sk-from-config"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(Get("v1/models", ApiKeyStore.HashHex("sk-from-file")))).StatusCode);
    }

    [Fact]
    public async Task Metrics_may_be_served_without_a_key_when_configured()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(("Metrics:AllowAnonymous", "true")));

        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("v1/models")).StatusCode);
    }

    [Theory]
    [InlineData("HttpUrl", "http://0.0.0.0:0")]
    [InlineData("HttpUrl", "http://*:0")]
    [InlineData("GrpcUrl", "http://[::]:0")]
    public void Without_keys_the_server_refuses_a_non_loopback_listener_at_start(string setting, string url)
    {
        var values = new Dictionary<string, string?>
        {
            ["Sovereign:HttpUrl"] = "http://127.0.0.1:0",
            ["Sovereign:GrpcUrl"] = "http://127.0.0.1:0",
            ["Sovereign:DemoModelWhenEmpty"] = "false",
            ["Sovereign:ModelsDir"] = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            [$"Sovereign:{setting}"] = url,
        };

        var error = Assert.Throws<ConfigurationException>(() => ServerHost.Build([], values));

        Assert.Contains(url, error.Message, StringComparison.Ordinal);
        Assert.Contains("no API key is configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_keys_a_non_loopback_listener_is_allowed()
    {
        var values = new Dictionary<string, string?>
        {
            ["Sovereign:HttpUrl"] = "http://0.0.0.0:0",
            ["Sovereign:GrpcUrl"] = "http://127.0.0.1:0",
            ["Sovereign:DemoModelWhenEmpty"] = "false",
            ["Sovereign:ModelsDir"] = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            ["Sovereign:ApiKeys:0:Name"] = "a",
            ["Sovereign:ApiKeys:0:Key"] = "k",
        };

        await using var app = ServerHost.Build([], values);

        Assert.NotNull(app);
    }

    [Theory]
    [InlineData("ApiKeys:0:KeySha256", "abc", "64 hex digits")]
    [InlineData("ApiKeys:0:Name", "a:b", "must not contain ':'")]
    [InlineData("ApiKeys:0:TokensPerMinute", "-1", "limits must be 0")]
    public void Bad_key_configuration_fails_at_start_naming_the_setting(string key, string value, string expected)
    {
        var values = new Dictionary<string, string?>
        {
            ["Sovereign:DemoModelWhenEmpty"] = "false",
            ["Sovereign:ModelsDir"] = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            ["Sovereign:ApiKeys:0:Name"] = "a",
            [$"Sovereign:{key}"] = value,
        };
        if (key != "ApiKeys:0:KeySha256")
        {
            values["Sovereign:ApiKeys:0:Key"] = "k";
        }

        var error = Assert.Throws<ConfigurationException>(() => ServerHost.Build([], values));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("ApiKeys:0", error.Message, StringComparison.Ordinal);
    }
}
