using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>Bytes no JSON library should have to see: each gets its 4xx with an OpenAI error body, never a 500.</summary>
public sealed class BadBytesTests
{
    public static TheoryData<string, string> LoneSurrogates => new()
    {
        { "tokenize", """{"model":"scripted","content":"\ud800"}""" },
        { "tokenize", """{"model":"scripted","content":"ok\udc00ok"}""" },
        { "tokenize", """{"model":"scripted","content":"\ud800\ud800"}""" },
        { "v1/completions", """{"model":"scripted","prompt":"hi","stop":["\udbff"]}""" },
        { "v1/completions", """{"model":"scripted","prompt":"hi","user":"\ud800"}""" },
        { "v1/completions", """{"model":"scripted","prompt":"hi","logit_bias":{"\ud800":1}}""" },
        { "v1/completions", """{"model":"scripted","prompt":"hi","unknown_\udfff_key":1}""" },
        { "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"\ud800"}]}""" },
        { "v1/chat/completions", """{"model":"\ud800","messages":[{"role":"user","content":"x"}]}""" },
        { "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"\ud800":{}}}}]}""" },
        { "v1/embeddings", """{"model":"scripted","input":["\ud800"]}""" },
        { "detokenize", """{"model":"scripted","tokens":[1],"x":{"y":["\udc00"]}}""" },
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public async Task A_lone_surrogate_escape_anywhere_in_the_body_is_a_400(string path, string json)
    {
        await using var server = await ServerHarness.StartAsync();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        Assert.Equal("invalid_encoding", document.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(server.Logs.Errors);
    }

    [Theory]
    [InlineData("""{"a":"\ud800"}""", true)]
    [InlineData("""{"a":"\uDFFF"}""", true)]
    [InlineData("""{"\uDbFf":1}""", true)]
    [InlineData("""{"a":"\ud7ff \ue000 \u00e9 d800"}""", false)]
    [InlineData("""{"a":"\u"}""", false)]
    public void The_prefilter_finds_every_surrogate_escape(string json, bool expected) =>
        Assert.Equal(expected, SovereignInference.Server.Http.OpenAi.Validation.RequestBody.HasSurrogateEscape(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public async Task A_valid_surrogate_pair_escape_is_text()
    {
        await using var server = await ServerHarness.StartAsync();
        using var content = new StringContent("""{"model":"scripted","content":"\ud83d\ude00"}""", Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync("tokenize", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Broken_chunked_framing_is_a_400_with_an_error_body()
    {
        await using var server = await ServerHarness.StartAsync();
        var response = await RawAsync(
            server,
            "POST /tokenize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            trickle: false);
        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("\"error\"", response, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Errors);
        Assert.Equal(0, server.Services.GetRequiredService<SovereignInference.Server.Http.OpenAi.Errors.UnexpectedErrorCounter>().Count);
    }

    [Fact]
    public async Task A_body_trickled_below_the_minimum_rate_is_a_408()
    {
        await using var server = await ServerHarness.StartAsync();
        var body = """{"model":"scripted","content":"hello"}""";
        var response = await RawAsync(
            server,
            $"POST /tokenize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}",
            trickle: true);
        Assert.StartsWith("HTTP/1.1 408", response, StringComparison.Ordinal);
        Assert.Empty(server.Logs.Errors);
        Assert.Equal(0, server.Services.GetRequiredService<SovereignInference.Server.Http.OpenAi.Errors.UnexpectedErrorCounter>().Count);
    }

    /// <summary>Sends <paramref name="request"/> on a raw socket (trickled at one byte a second after the headers if asked) and reads the answer.</summary>
    private static async Task<string> RawAsync(ServerHarness server, string request, bool trickle)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.HttpBase.Port);
        var stream = client.GetStream();
        var bytes = Encoding.ASCII.GetBytes(request);
        var headerEnd = request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        await stream.WriteAsync(bytes.AsMemory(0, trickle ? headerEnd : bytes.Length));
        using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var read = ReadAllAsync(stream, reading.Token);
        if (trickle)
        {
            for (var i = headerEnd; i < bytes.Length && !read.IsCompleted; i++)
            {
                try
                {
                    await stream.WriteAsync(bytes.AsMemory(i, 1));
                }
                catch (IOException)
                {
                    break;
                }

                await Task.WhenAny(read, Task.Delay(1000));
            }
        }

        return await read;
    }

    private static async Task<string> ReadAllAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, n);
            }
        }
        catch (IOException)
        {
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
