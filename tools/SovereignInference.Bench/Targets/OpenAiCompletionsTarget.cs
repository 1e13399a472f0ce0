using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SovereignInference.Bench.Targets;

/// <summary>
/// Drives POST {url}/v1/completions of any OpenAI-compatible server (ours, llama.cpp's llama-server, vLLM) with
/// HttpClient, reading the SSE body itself (<see cref="HttpCompletionOption.ResponseHeadersRead"/>) so every event is
/// timed as it arrives. Asks for fixed output lengths the way those servers understand it: max_tokens, plus
/// "ignore_eos": true and "min_tokens" (llama-server and vLLM honour ignore_eos; vLLM honours min_tokens; unknown
/// fields are ignored by all three), and greedy sampling (temperature 0).
/// </summary>
internal sealed class OpenAiCompletionsTarget : IBenchTarget
{
    private readonly HttpClient _http;
    private readonly Uri _completions;
    private readonly TargetSettings _settings;

    public OpenAiCompletionsTarget(Uri baseUrl, TargetSettings settings, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _completions = CompletionsUrl(baseUrl);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = int.MaxValue })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (!string.IsNullOrEmpty(settings.ApiKey))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
        }
    }

    public string Transport => "http";

    public string Endpoint => _completions.ToString();

    /// <summary>http://host:port → http://host:port/v1/completions; a URL already ending in /v1 gets /completions.</summary>
    public static Uri CompletionsUrl(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var text = baseUrl.ToString().TrimEnd('/');
        if (text.EndsWith("/completions", StringComparison.Ordinal))
        {
            return new Uri(text);
        }

        return new Uri(text.EndsWith("/v1", StringComparison.Ordinal) ? text + "/completions" : text + "/v1/completions");
    }

    /// <summary>The JSON body sent for <paramref name="prompt"/>.</summary>
    public byte[] RequestBody(BenchPrompt prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("model", _settings.Model);
            json.WriteString("prompt", prompt.Text);
            json.WriteNumber("max_tokens", prompt.MaxTokens);
            json.WriteNumber("temperature", 0);
            if (_settings.IgnoreEos)
            {
                json.WriteBoolean("ignore_eos", true);
                json.WriteNumber("min_tokens", prompt.MaxTokens);
            }

            if (_settings.Seed is { } seed)
            {
                json.WriteNumber("seed", seed);
            }

            json.WriteBoolean("stream", _settings.Stream);
            if (_settings.Stream)
            {
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    public async Task<RequestTrace> SendAsync(BenchPrompt prompt, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        var trace = new RequestTrace(Stopwatch.GetTimestamp());
        try
        {
            using var response = await SendOnceOrRetryAsync(prompt, trace, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.HttpStatus, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), OpenAiStreamReader.ErrorMessage(text));
                return trace;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            if (_settings.Stream)
            {
                await OpenAiStreamReader.ReadAsync(body, trace, Stopwatch.GetTimestamp, timeout.Token);
            }
            else
            {
                await ReadWholeAsync(body, trace, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Timeout, null, $"no complete response within {_settings.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Connection, null, e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }
        catch (IOException e)
        {
            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Connection, null, e.Message);
        }

        return trace;
    }

    /// <summary>
    /// Sends the request; when the connection fails before any response arrived (a pooled keep-alive connection the
    /// server had already closed: "An error occurred while sending the request"), sends it once more on a fresh
    /// connection, as browsers and the OpenAI SDKs do. The request's clock keeps running from the first attempt, and
    /// the retry is counted (<see cref="RequestTrace.Retried"/>), so a server that drops connections still pays for it.
    /// </summary>
    private async Task<HttpResponseMessage> SendOnceOrRetryAsync(BenchPrompt prompt, RequestTrace trace, CancellationToken cancellationToken)
    {
        var body = RequestBody(prompt);
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _completions) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            try
            {
                return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException e) when (attempt == 0 && e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded)
            {
                trace.Retried = true;
            }
        }
    }

    /// <summary>A non-streamed response: the whole body is the one output event (time to first token = end to end).</summary>
    private static async Task ReadWholeAsync(Stream body, RequestTrace trace, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.MalformedResponse, null, e.Message);
            return;
        }

        var now = Stopwatch.GetTimestamp();
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                OpenAiStreamReader.ReadUsage(usage, trace);
            }
        }

        trace.AddEvent(now, 1);
        trace.Complete(now);
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
