using System.Net;
using System.Text;
using System.Text.Json;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>Unknown routes and wrong methods answer an OpenAI error body, never an empty one.</summary>
public sealed class RouteErrorTests
{
    [Theory]
    [InlineData("GET", "v1/assistants", 404, "unknown_route")]
    [InlineData("GET", "v1/responses", 405, "method_not_allowed")]
    [InlineData("POST", "v1/nothing", 404, "unknown_route")]
    [InlineData("GET", "console/no-such-file.js", 404, "unknown_route")]
    [InlineData("DELETE", "v1/models/scripted", 405, "method_not_allowed")]
    [InlineData("GET", "v1/chat/completions", 405, "method_not_allowed")]
    [InlineData("PUT", "tokenize", 405, "method_not_allowed")]
    public async Task Routing_errors_have_an_OpenAI_error_body(string method, string path, int status, string code)
    {
        await using var server = await ServerHarness.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Contains(path, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        if (status == 405)
        {
            Assert.NotEmpty(response.Content.Headers.Allow);
        }
    }

    [Fact]
    public async Task Chat_messages_and_logprobs_carry_refusal_null_as_the_OpenAI_spec_requires()
    {
        await using var server = await ServerHarness.StartAsync();
        var (response, body) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            """{"model":"scripted","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"logprobs":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("refusal").ValueKind);
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").GetProperty("refusal").ValueKind);
    }
}
