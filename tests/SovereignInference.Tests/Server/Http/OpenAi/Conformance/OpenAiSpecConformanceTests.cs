using System.Net;
using System.Text;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.Server.Http.OpenAi.Conformance.OpenAiSpec;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi.Conformance;

/// <summary>
/// Every response body and every stream chunk of chat, completions, models, embeddings and the error paths, from
/// the real server, validated against the schemas of OpenAI's published OpenAPI document — what clients generated
/// from that document (openapi-generator's, Stainless') expect to deserialize.
/// </summary>
public sealed class OpenAiSpecConformanceTests
{
    private const string Tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";

    [Theory]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}]}""")]
    [InlineData("""{"model":"scripted","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"n":2,"seed":7,"max_tokens":2}""")]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":3}""")]
    [InlineData("""{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"},"max_tokens":8}""")]
    public async Task Chat_completions_and_their_stream_chunks_match_the_spec(string body)
    {
        await using var server = await ServerHarness.StartAsync();
        await AssertChatAsync(server, body);
    }

    [Theory]
    [InlineData("""{"model":"tools","messages":[{"role":"user","content":"Weather?"}],"temperature":0,"tools":TOOLS}""")]
    [InlineData("""{"model":"tools","messages":[{"role":"user","content":"Weather?"}],"temperature":0,"tools":TOOLS,"tool_choice":"required","logprobs":true,"top_logprobs":2}""")]
    [InlineData("""{"model":"tools","messages":[{"role":"user","content":"Weather?"}],"temperature":0,"tools":TOOLS,"tool_choice":"none"}""")]
    [InlineData("""{"model":"tools","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"abcDEF123","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},{"role":"tool","tool_call_id":"abcDEF123","content":"{\"sky\": \"sunny\"}"}],"temperature":0,"tools":TOOLS}""")]
    public async Task Chat_completions_with_tools_and_their_stream_chunks_match_the_spec(string body)
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        await AssertChatAsync(server, body.Replace("TOOLS", Tools, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"model":"scripted","prompt":"[/INST]"}""")]
    [InlineData("""{"model":"scripted","prompt":["[/INST]","Hello"],"n":2,"max_tokens":3}""")]
    [InlineData("""{"model":"scripted","prompt":"[/INST]","logprobs":3}""")]
    [InlineData("""{"model":"scripted","prompt":[1,2,3],"max_tokens":2,"logprobs":0}""")]
    public async Task Completions_and_their_stream_chunks_match_the_spec(string body)
    {
        await using var server = await ServerHarness.StartAsync();

        var (status, json) = await PostAsync(server, "v1/completions", body);
        Assert.Equal(HttpStatusCode.OK, status);
        AssertValid(Completion, json, "completion");

        var chunks = await StreamAsync(server, "v1/completions", body);
        foreach (var (chunk, i) in chunks)
        {
            AssertValid(CompletionChunk, chunk, $"completion stream chunk {i}");
        }

        // The chunks that end a choice (and the usage chunk) are completions by the spec's own schema.
        var last = chunks.Where(c => !c.Json.Contains("\"finish_reason\":null", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(last);
        foreach (var (chunk, i) in last)
        {
            AssertValid(Completion, chunk, $"completion stream chunk {i}");
        }
    }

    [Fact]
    public async Task Model_list_and_model_match_the_spec()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.TinyAndScripted());

        AssertValid(ModelList, await server.Http.GetStringAsync("v1/models"), "model list");
        AssertValid(Model, await server.Http.GetStringAsync("v1/models/tiny"), "model");
        AssertValid(Model, await server.Http.GetStringAsync("v1/models/scripted"), "model");
    }

    [Theory]
    [InlineData("""{"model":"tiny","input":"Hello world"}""")]
    [InlineData("""{"model":"tiny","input":["Hello world","a"],"encoding_format":"float"}""")]
    [InlineData("""{"model":"tiny","input":[[1,2,3],[4]]}""")]
    public async Task Embeddings_match_the_spec(string body)
    {
        var settings = ServerHarness.TinyAndScripted();
        settings["Embeddings:0"] = "tiny";
        await using var server = await ServerHarness.StartAsync(settings);

        var (status, json) = await PostAsync(server, "v1/embeddings", body);

        Assert.Equal(HttpStatusCode.OK, status);
        AssertValid(EmbeddingList, json, "embeddings");
    }

    [Fact]
    public async Task Error_bodies_match_the_spec_on_every_error_path()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(("ApiKeys:1:RequestsPerMinute", "1"), ("MaxRequestBodyBytes", "4096")));
        var tooLarge = """{"model":"scripted","prompt":" """ + new string('x', 8192) + "\"}";
        (HttpMethod Method, string Path, string? Body, string? Key, HttpStatusCode Expected)[] cases =
        [
            (HttpMethod.Post, "v1/chat/completions", """{"model":"scripted","messages":[]}""", null, HttpStatusCode.Unauthorized),
            (HttpMethod.Post, "v1/chat/completions", """{"model":"scripted","messages":[]}""", "sk-wrong", HttpStatusCode.Unauthorized),
            (HttpMethod.Post, "v1/chat/completions", """{"model":"scripted","messages":[]}""", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Post, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":"hot"}""", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Post, "v1/chat/completions", "{not json", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Post, "v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"Hi"}]}""", AliceKey, HttpStatusCode.NotFound),
            (HttpMethod.Post, "v1/completions", """{"model":"scripted"}""", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Post, "v1/completions", """{"model":"scripted","prompt":"x","echo":true}""", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Post, "v1/embeddings", """{"model":"scripted","input":"x"}""", AliceKey, HttpStatusCode.BadRequest),
            (HttpMethod.Get, "v1/models/nope", null, AliceKey, HttpStatusCode.NotFound),
            (HttpMethod.Get, "v1/no/such/route", null, AliceKey, HttpStatusCode.NotFound),
            (HttpMethod.Get, "v1/chat/completions", null, AliceKey, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Delete, "v1/models", null, AliceKey, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Post, "v1/completions", tooLarge, AliceKey, HttpStatusCode.RequestEntityTooLarge),
            (HttpMethod.Get, "v1/models", null, BobKey, HttpStatusCode.OK),
            (HttpMethod.Get, "v1/models", null, BobKey, HttpStatusCode.TooManyRequests),
        ];

        foreach (var (method, path, body, key, expected) in cases)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            if (key is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }

            using var response = await server.Http.SendAsync(request);
            var json = await response.Content.ReadAsStringAsync();
            var what = $"{method} /{path} with key '{key}'";
            Assert.True(expected == response.StatusCode, $"{what}: {(int)response.StatusCode} {json}");
            AssertValid(response.IsSuccessStatusCode ? ModelList : Error, json, what);
        }
    }

    private static async Task AssertChatAsync(ServerHarness server, string body)
    {
        var (status, json) = await PostAsync(server, "v1/chat/completions", body);
        Assert.True(status == HttpStatusCode.OK, json);
        AssertValid(ChatCompletion, json, "chat completion");

        var chunks = await StreamAsync(server, "v1/chat/completions", body);
        Assert.NotEmpty(chunks);
        foreach (var (chunk, i) in chunks)
        {
            AssertValid(ChatCompletionChunk, chunk, $"chat stream chunk {i}");
        }
    }

    private static async Task<(HttpStatusCode Status, string Json)> PostAsync(ServerHarness server, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The JSON chunks of the same request streamed, with the usage chunk included.</summary>
    private static async Task<List<(string Json, int Index)>> StreamAsync(ServerHarness server, string path, string body)
    {
        var streamed = body.TrimEnd()[..^1] + ""","stream":true,"stream_options":{"include_usage":true}}""";
        var (status, text) = await PostAsync(server, path, streamed);
        Assert.True(status == HttpStatusCode.OK, text);
        return [.. OpenAiTestSupport.ParseSse(text).Select((d, i) => (d.RootElement.GetRawText(), i))];
    }
}
