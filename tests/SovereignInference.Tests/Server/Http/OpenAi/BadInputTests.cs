using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>Bad client input gets a 4xx OpenAI error naming the field, never a 500, and the server keeps serving.</summary>
public sealed class BadInputTests
{
    private const string Chat = "v1/chat/completions";
    private const string Hi = """[{"role":"user","content":"Hi"}]""";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string WithHi(string s) => s.Replace("__HI__", Hi, StringComparison.Ordinal);

    private static IEnumerable<(string Name, string Path, byte[] Body, int Status, string? Param)> Cases()
    {
        yield return ("malformed JSON", Chat, Utf8("""{"model":"scripted","messages":"""), 400, null);
        yield return ("nested 1,000 deep", Chat, Utf8("""{"model":"scripted","messages":""" + new string('[', 1000) + new string(']', 1000) + "}"), 400, null);
        yield return ("empty object", Chat, Utf8("{}"), 400, "model");
        yield return ("array body", Chat, Utf8("[1,2]"), 400, null);
        yield return ("model is a number", Chat, Utf8(WithHi("""{"model":5,"messages":__HI__}""")), 400, "model");
        yield return ("messages is a string", Chat, Utf8("""{"model":"scripted","messages":"Hi"}"""), 400, "messages");
        yield return ("message without role", Chat, Utf8("""{"model":"scripted","messages":[{"content":"Hi"}]}"""), 400, "messages[0].role");
        yield return ("image content part", Chat, Utf8("""{"model":"scripted","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"""), 400, "messages[0].content[0].type");
        yield return ("tool result without its call", Chat, Utf8("""{"model":"scripted","messages":[{"role":"user","content":"a"},{"role":"tool","content":"b","tool_call_id":"abcdefghi"}]}"""), 400, "messages");
        yield return ("negative max_tokens", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"max_tokens":-5}""")), 400, "max_tokens");
        yield return ("absurd max_tokens", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"max_tokens":100000000000000}""")), 400, "max_tokens");
        yield return ("max_tokens beyond the context", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"max_completion_tokens":100000}""")), 400, "max_tokens");
        yield return ("temperature \"NaN\"", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"temperature":"NaN"}""")), 400, "temperature");
        yield return ("temperature 1e999", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"temperature":1e999}""")), 400, "temperature");
        yield return ("temperature 7", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"temperature":7}""")), 400, "temperature");
        yield return ("n = 1000000", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"n":1000000}""")), 400, "n");
        yield return ("logit_bias id outside the vocabulary", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"logit_bias":{"99999999":5}}""")), 400, "logit_bias");
        yield return ("logit_bias key not an id", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"logit_bias":{"hello":5}}""")), 400, "logit_bias");
        yield return ("top_logprobs without logprobs", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"top_logprobs":3}""")), 400, "top_logprobs");
        yield return ("stop is a number", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"stop":5}""")), 400, "stop");
        yield return ("response_format json_schema with an unsupported keyword", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"a+"}}}}""")), 400, "response_format");
        yield return ("response_format json_schema without its object", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"response_format":{"type":"json_schema"}}""")), 400, "response_format.json_schema");
        yield return ("response_format of an unknown type", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"response_format":{"type":"xml"}}""")), 400, "response_format");
        yield return ("legacy functions", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"functions":[]}""")), 400, "functions");
        yield return ("tool_choice names a missing tool", Chat, Utf8(WithHi("""{"model":"scripted","messages":__HI__,"tool_choice":{"type":"function","function":{"name":"nope"}}}""")), 400, "tool_choice");
        yield return ("invalid UTF-8", Chat, [.. Utf8("""{"model":"scripted","messages":[{"role":"user","content":" """), 0xC3, 0x28, 0xFF, .. Utf8("\"}]}")], 400, null);
        yield return ("unknown model", Chat, Utf8(WithHi("""{"model":"no-such-model","messages":__HI__}""")), 404, "model");
        yield return ("completion token outside the vocabulary", "v1/completions", Utf8("""{"model":"scripted","prompt":[1,99999999]}"""), 400, "prompt");
        yield return ("completion prompt of wrong type", "v1/completions", Utf8("""{"model":"scripted","prompt":{"a":1}}"""), 400, "prompt");
        yield return ("completion echo", "v1/completions", Utf8("""{"model":"scripted","prompt":"x","echo":true}"""), 400, "echo");
        yield return ("detokenize id outside the vocabulary", "detokenize", Utf8("""{"tokens":[-1]}"""), 400, "tokens[0]");
    }

    [Fact]
    public async Task Every_bad_request_gets_a_4xx_openai_error_and_the_server_keeps_serving()
    {
        await using var server = await ServerHarness.StartAsync();
        var failures = new List<string>();
        foreach (var (name, path, body, status, param) in Cases())
        {
            var (response, text) = await OpenAiTestSupport.PostRawAsync(server, path, body);
            try
            {
                Assert.Equal(status, (int)response.StatusCode);
                using var json = JsonDocument.Parse(text);
                var error = json.RootElement.GetProperty("error");
                Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
                Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
                if (param is not null)
                {
                    Assert.Equal(param, error.GetProperty("param").GetString());
                }
            }
            catch (Exception ex) when (ex is Xunit.Sdk.XunitException or JsonException or KeyNotFoundException)
            {
                failures.Add($"{name}: {(int)response.StatusCode} {text} — {ex.Message}");
            }
        }

        Assert.Empty(failures);
        var (ok, _) = await OpenAiTestSupport.PostJsonAsync(server, Chat, $$"""{"model":"scripted","messages":{{Hi}}}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(0, server.Services.GetRequiredService<UnexpectedErrorCounter>().Count);
    }

    [Fact]
    public async Task A_10_MB_body_gets_413()
    {
        await using var server = await ServerHarness.StartAsync();
        var body = Utf8("""{"model":"scripted","messages":[{"role":"user","content":" """ + new string('x', 10 * 1024 * 1024) + "\"}]}");

        // Like curl for large uploads, the client announces the size and waits for "100 Continue": the server
        // answers 413 from Content-Length alone, before a byte of the 10 MB body is sent.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.HttpBase.Host, server.HttpBase.Port);
        var stream = tcp.GetStream();
        var head = $"POST /{Chat} HTTP/1.1\r\nHost: {server.HttpBase.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nExpect: 100-continue\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var statusLine = await reader.ReadLineAsync();
        Assert.StartsWith("HTTP/1.1 413", statusLine, StringComparison.Ordinal);
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
        {
        }

        var text = await reader.ReadLineAsync() ?? "";
        if (!text.StartsWith('{'))
        {
            text = await reader.ReadLineAsync() ?? "";
        }

        using var json = JsonDocument.Parse(text);
        Assert.Equal("request_too_large", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        var (ok, _) = await OpenAiTestSupport.PostJsonAsync(server, Chat, $$"""{"model":"scripted","messages":{{Hi}}}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Overload_is_429_with_retry_after()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = "1", ["QueueCapacity"] = "1" });
        var tokens = JsonSerializer.Serialize(ScriptedModels.Prompt("▁loop"));
        var body = $$"""{"model":"scripted","prompt":{{tokens}},"stream":true}""";
        using var cts = new CancellationTokenSource();
        var held = new List<HttpResponseMessage>();
        HttpResponseMessage? rejected = null;

        // One slot and one queue place: of four concurrent requests at least one must be turned away. Streams that
        // were admitted answer once they have a token; the rejected one answers at once. No timing is assumed.
        var pending = Enumerable.Range(0, 4).Select(_ => server.Http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead,
            cts.Token)).ToList();
        while (rejected is null && pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            var response = await done;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
            else
            {
                held.Add(response);
            }
        }

        Assert.NotNull(rejected);
        Assert.NotNull(rejected.Headers.RetryAfter);
        using var json = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        Assert.Equal("overloaded", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        await cts.CancelAsync();
        held.ForEach(h => h.Dispose());
    }
}
