using System.Net;
using System.Text;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>
/// DNS rebinding and cross-site requests against the default server (loopback, no keys): only loopback host
/// names and configured ones are served, other origins are refused, and JSON endpoints refuse non-JSON bodies,
/// so no web page a user visits can drive the server.
/// </summary>
public sealed class HostAndOriginTests
{
    private const string Tokenize = """{"model":"scripted","content":"hello"}""";

    [Theory]
    [InlineData("evil.example.com")]
    [InlineData("evil.example.com:8080")]
    [InlineData("localhost.evil.example.com")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("10.0.0.1")]
    public async Task A_foreign_Host_is_refused_with_400_on_every_route(string host)
    {
        await using var server = await ServerHarness.StartAsync();
        foreach (var (method, path) in new[] { (HttpMethod.Get, "v1/models"), (HttpMethod.Post, "tokenize"), (HttpMethod.Get, "metrics"), (HttpMethod.Get, "health/ready") })
        {
            using var request = Request(method, path);
            request.Headers.Host = host;
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("invalid_host", await ErrorBodies.ErrorCodeAsync(response));
        }
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:1234")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:9")]
    [InlineData("[::1]:8080")]
    public async Task Loopback_host_names_are_served_on_any_port(string host)
    {
        await using var server = await ServerHarness.StartAsync();
        using var request = Request(HttpMethod.Post, "tokenize");
        request.Headers.Host = host;
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Configured_host_names_are_served_and_star_turns_the_check_off()
    {
        await using (var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["AllowedHosts:0"] = "llm.internal" }))
        {
            Assert.Equal(HttpStatusCode.OK, await StatusWithHost(server, "llm.internal:443"));
            Assert.Equal(HttpStatusCode.OK, await StatusWithHost(server, "localhost"));
            Assert.Equal(HttpStatusCode.BadRequest, await StatusWithHost(server, "other.internal"));
        }

        await using (var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["AllowedHosts:0"] = "*" }))
        {
            Assert.Equal(HttpStatusCode.OK, await StatusWithHost(server, "anything.example.com"));
        }
    }

    [Fact]
    public async Task A_cross_site_request_is_refused_and_a_same_origin_one_served()
    {
        await using var server = await ServerHarness.StartAsync();

        using (var request = Request(HttpMethod.Post, "tokenize"))
        {
            request.Headers.Add("Origin", "http://evil.example.com");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("origin_not_allowed", await ErrorBodies.ErrorCodeAsync(response));
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        using (var request = Request(HttpMethod.Post, "tokenize"))
        {
            request.Headers.Add("Origin", server.HttpBase.GetLeftPart(UriPartial.Authority));
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_configured_origin_gets_CORS_headers_and_a_preflight()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Cors:Origins:0"] = "https://app.example.com" });

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions"))
        {
            preflight.Headers.Add("Origin", "https://app.example.com");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type,authorization");
            using var response = await server.Http.SendAsync(preflight);
            Assert.True(response.IsSuccessStatusCode, $"preflight gave {response.StatusCode}");
            Assert.Equal("https://app.example.com", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }

        using (var request = Request(HttpMethod.Post, "tokenize"))
        {
            request.Headers.Add("Origin", "https://app.example.com");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https://app.example.com", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }

        using (var request = Request(HttpMethod.Post, "tokenize"))
        {
            request.Headers.Add("Origin", "https://other.example.com");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task Without_configured_origins_no_CORS_header_is_ever_sent()
    {
        await using var server = await ServerHarness.StartAsync();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions");
        preflight.Headers.Add("Origin", server.HttpBase.GetLeftPart(UriPartial.Authority));
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var response = await server.Http.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain;charset=UTF-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task JSON_endpoints_refuse_a_body_that_is_not_declared_JSON_with_415(string? contentType)
    {
        await using var server = await ServerHarness.StartAsync();
        var generations = 0;
        server.Engine.GenerationCompleted += _ => Interlocked.Increment(ref generations);
        foreach (var path in new[] { "v1/chat/completions", "v1/completions", "v1/embeddings", "tokenize", "detokenize" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"model":"scripted","prompt":"hi","messages":[{"role":"user","content":"hi"}]}""")) };
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
            Assert.Equal("unsupported_media_type", await ErrorBodies.ErrorCodeAsync(response));
        }

        Assert.Equal(0, generations);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("APPLICATION/JSON")]
    [InlineData("application/vnd.api+json")]
    public async Task JSON_media_types_are_accepted(string contentType)
    {
        await using var server = await ServerHarness.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "tokenize") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Tokenize)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent(Tokenize, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<HttpStatusCode> StatusWithHost(ServerHarness server, string host)
    {
        using var request = Request(HttpMethod.Post, "tokenize");
        request.Headers.Host = host;
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }
}
