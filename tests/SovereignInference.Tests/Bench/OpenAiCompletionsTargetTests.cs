using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SovereignInference.Bench.Targets;

namespace SovereignInference.Tests.Bench;

/// <summary>The HTTP target's wire format and failure mapping (client side; the real server is in <see cref="BenchCommandTests"/>).</summary>
public sealed class OpenAiCompletionsTargetTests
{
    private static readonly TargetSettings Settings = new("m", "secret", Stream: true, IgnoreEos: true, Seed: 42, TimeSpan.FromSeconds(30));

    /// <summary>Answers every request with a canned response and keeps the last request.</summary>
    private sealed class CannedHandler(HttpStatusCode status, string body, string contentType) : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }

        public string? RequestBody { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            RequestBody = await request.Content!.ReadAsStringAsync(cancellationToken);
            return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/completions")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/completions")]
    [InlineData("http://host:8000/v1", "http://host:8000/v1/completions")]
    [InlineData("https://host/proxy/v1/", "https://host/proxy/v1/completions")]
    [InlineData("http://host/v1/completions", "http://host/v1/completions")]
    public void The_completions_url_is_derived_from_the_base_url(string baseUrl, string expected)
    {
        Assert.Equal(expected, OpenAiCompletionsTarget.CompletionsUrl(new Uri(baseUrl)).ToString());
    }

    [Fact]
    public async Task Requests_stream_with_usage_fixed_length_greedy_and_the_api_key()
    {
        var handler = new CannedHandler(HttpStatusCode.OK, "data: {\"choices\":[{\"text\":\" a\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", "text/event-stream");
        await using var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings, handler);

        var trace = await target.SendAsync(new("hello loop", 8), CancellationToken.None);

        Assert.True(trace.Succeeded);
        Assert.Equal(HttpMethod.Post, handler.Request!.Method);
        Assert.Equal("Bearer secret", handler.Request.Headers.Authorization!.ToString());
        using var body = JsonDocument.Parse(handler.RequestBody!);
        var root = body.RootElement;
        Assert.Equal("m", root.GetProperty("model").GetString());
        Assert.Equal("hello loop", root.GetProperty("prompt").GetString());
        Assert.Equal(8, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal(8, root.GetProperty("min_tokens").GetInt32());
        Assert.True(root.GetProperty("ignore_eos").GetBoolean());
        Assert.True(root.GetProperty("stream").GetBoolean());
        Assert.True(root.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(0, root.GetProperty("temperature").GetDouble());
        Assert.Equal(42, root.GetProperty("seed").GetInt64());
    }

    /// <summary>Fails the first <paramref name="failures"/> sends as a dropped keep-alive connection does, then answers.</summary>
    private sealed class DroppingHandler(int failures, HttpRequestError error) : HttpMessageHandler
    {
        public int Sends { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (++Sends <= failures)
            {
                throw new HttpRequestException(error, "An error occurred while sending the request.", new IOException("The response ended prematurely."));
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("data: {\"choices\":[{\"text\":\" a\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n", Encoding.UTF8, "text/event-stream") });
        }
    }

    [Theory]
    [InlineData(HttpRequestError.ConnectionError)]
    [InlineData(HttpRequestError.ResponseEnded)]
    public async Task A_connection_dropped_before_any_response_is_sent_once_more_and_counted(HttpRequestError error)
    {
        var handler = new DroppingHandler(1, error);
        await using var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings, handler);

        var trace = await target.SendAsync(new("p", 4), CancellationToken.None);

        Assert.True(trace.Succeeded);
        Assert.True(trace.Retried);
        Assert.Equal(2, handler.Sends);
    }

    [Fact]
    public async Task A_second_drop_fails_the_request_with_the_inner_cause_and_other_errors_are_never_retried()
    {
        var twice = new DroppingHandler(2, HttpRequestError.ConnectionError);
        await using (var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings, twice))
        {
            var trace = await target.SendAsync(new("p", 4), CancellationToken.None);
            Assert.False(trace.Succeeded);
            Assert.Equal("connection", trace.FailureKey);
            Assert.Contains("response ended prematurely", trace.FailureMessage, StringComparison.Ordinal);
            Assert.Equal(2, twice.Sends);
        }

        var other = new DroppingHandler(1, HttpRequestError.SecureConnectionError);
        await using (var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings, other))
        {
            var trace = await target.SendAsync(new("p", 4), CancellationToken.None);
            Assert.False(trace.Succeeded);
            Assert.False(trace.Retried);
            Assert.Equal(1, other.Sends);
        }
    }

    [Fact]
    public void Without_ignore_eos_or_streaming_those_fields_are_not_sent()
    {
        var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings with { Stream = false, IgnoreEos = false, Seed = null });

        using var body = JsonDocument.Parse(target.RequestBody(new("p", 4)));

        var names = body.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.DoesNotContain("ignore_eos", names);
        Assert.DoesNotContain("min_tokens", names);
        Assert.DoesNotContain("stream_options", names);
        Assert.DoesNotContain("seed", names);
        Assert.False(body.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task A_non_success_status_is_counted_under_its_code_with_the_openai_error_message()
    {
        var handler = new CannedHandler(HttpStatusCode.TooManyRequests, "{\"error\":{\"message\":\"queue is full\",\"type\":\"rate_limit_error\"}}", "application/json");
        await using var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings, handler);

        var trace = await target.SendAsync(new("p", 4), CancellationToken.None);

        Assert.Equal("http 429", trace.FailureKey);
        Assert.Equal("queue is full", trace.FailureMessage);
    }

    [Fact]
    public async Task A_non_streamed_response_is_one_event_with_the_usage_count()
    {
        var handler = new CannedHandler(HttpStatusCode.OK, "{\"choices\":[{\"text\":\" a b a\",\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3}}", "application/json");
        await using var target = new OpenAiCompletionsTarget(new Uri("http://127.0.0.1:1"), Settings with { Stream = false }, handler);

        var trace = await target.SendAsync(new("p", 3), CancellationToken.None);

        Assert.True(trace.Succeeded);
        Assert.Equal(3, trace.OutputTokens);
        Assert.Single(trace.Events);
    }

    [Fact]
    public async Task A_refused_connection_is_a_connection_failure_not_an_exception()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var target = new OpenAiCompletionsTarget(new Uri($"http://127.0.0.1:{port}"), Settings);

        var trace = await target.SendAsync(new("p", 4), CancellationToken.None);

        Assert.Equal("connection", trace.FailureKey);
        Assert.False(trace.Succeeded);
    }
}
