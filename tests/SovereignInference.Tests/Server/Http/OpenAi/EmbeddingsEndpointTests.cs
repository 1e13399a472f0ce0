using System.Net;
using System.Text.Json;
using Microsoft.Extensions.AI;
using SovereignInference.Engine.Embedding;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>POST /v1/embeddings through the OpenAI .NET SDK and Microsoft.Extensions.AI, on the real server.</summary>
public sealed class EmbeddingsEndpointTests
{
    /// <summary>A server with "tiny" configured for embeddings and "scripted" not.</summary>
    internal static Task<ServerHarness> StartAsync()
    {
        var settings = ServerHarness.TinyAndScripted();
        settings["Embeddings:0"] = "tiny";
        return ServerHarness.StartAsync(settings);
    }

    [Fact]
    public async Task The_openai_sdk_gets_the_engine_vectors_in_input_order_with_usage()
    {
        await using var server = await StartAsync();
        string[] inputs = ["Hello world", "the weather today", "a"];
        var expected = await server.Engine.EmbedAsync("tiny", inputs);

        var result = (await OpenAiTestSupport.Client(server).GetEmbeddingClient("tiny").GenerateEmbeddingsAsync(inputs)).Value;

        Assert.Equal(inputs.Length, result.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, result[i].Index);
            Assert.Equal(expected.Vectors[i], result[i].ToFloats().ToArray());
        }

        Assert.Equal(TestModels.Tiny().Shape.EmbeddingLength, result[0].ToFloats().Length);
        Assert.Equal(expected.PromptTokens, result.Usage.InputTokenCount);
        Assert.Equal(expected.PromptTokens, result.Usage.TotalTokenCount);
        Assert.Equal("tiny", result.Model);
    }

    [Fact]
    public async Task Microsoft_extensions_ai_embedding_generator_works_against_the_server()
    {
        await using var server = await StartAsync();
        IEmbeddingGenerator<string, Embedding<float>> generator = OpenAiTestSupport.Client(server).GetEmbeddingClient("tiny").AsIEmbeddingGenerator();
        var expected = await server.Engine.EmbedAsync("tiny", ["Hello world", "good day"]);

        var embeddings = await generator.GenerateAsync(["Hello world", "good day"]);

        Assert.Equal(2, embeddings.Count);
        Assert.Equal(expected.Vectors[0], embeddings[0].Vector.ToArray());
        Assert.Equal(expected.Vectors[1], embeddings[1].Vector.ToArray());
        Assert.Equal(expected.PromptTokens, embeddings.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task Float_and_base64_encodings_and_token_inputs_carry_the_same_vectors()
    {
        await using var server = await StartAsync();
        var tokens = server.Engine.GetReadyModel("tiny").Tokenizer!.Tokenize("Hello world", addBos: true, parseSpecial: false);
        var expected = (await server.Engine.EmbedAsync("tiny", ["Hello world"])).Vectors[0];

        var bodies = new[]
        {
            """{"model":"tiny","input":"Hello world"}""",
            """{"model":"tiny","input":["Hello world"],"encoding_format":"float"}""",
            $$"""{"model":"tiny","input":[{{string.Join(',', tokens)}}]}""",
            $$"""{"model":"tiny","input":[[{{string.Join(',', tokens)}}]]}""",
        };
        foreach (var body in bodies)
        {
            var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/embeddings", body);
            using (json)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
                var item = Assert.Single(json.RootElement.GetProperty("data").EnumerateArray());
                Assert.Equal("embedding", item.GetProperty("object").GetString());
                Assert.Equal(0, item.GetProperty("index").GetInt32());
                Assert.Equal(expected, item.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
                Assert.Equal(tokens.Length, json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
                Assert.Equal(tokens.Length, json.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
            }
        }

        var (b64Response, b64) = await OpenAiTestSupport.PostJsonAsync(server, "v1/embeddings", """{"model":"tiny","input":"Hello world","encoding_format":"base64"}""");
        using (b64)
        {
            Assert.Equal(HttpStatusCode.OK, b64Response.StatusCode);
            var bytes = Convert.FromBase64String(b64.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
            var floats = new float[bytes.Length / sizeof(float)];
            for (var i = 0; i < floats.Length; i++)
            {
                floats[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
            }

            Assert.Equal(expected, floats);
        }
    }

    public static TheoryData<string, int, string> BadBodies => new()
    {
        { """{"model":"scripted","input":"Hello"}""", 400, "model" },
        { """{"model":"no-such-model","input":"Hello"}""", 404, "model" },
        { """{"model":"tiny"}""", 400, "input" },
        { """{"model":"tiny","input":[]}""", 400, "input" },
        { """{"model":"tiny","input":""}""", 400, "input" },
        { """{"model":"tiny","input":5}""", 400, "input" },
        { """{"model":"tiny","input":["a",5]}""", 400, "input[1]" },
        { """{"model":"tiny","input":[1,-2]}""", 400, "input[1]" },
        { """{"model":"tiny","input":[99999999]}""", 400, "input" },
        { """{"model":"tiny","input":"a","encoding_format":"int8"}""", 400, "encoding_format" },
        { """{"model":"tiny","input":"a","dimensions":3}""", 400, "dimensions" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_embedding_requests_get_a_4xx_naming_the_field(string body, int status, string param)
    {
        await using var server = await StartAsync();

        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/embeddings", body);

        using (json)
        {
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal(param, json.RootElement.GetProperty("error").GetProperty("param").GetString());
        }

        var ok = await server.Engine.EmbedAsync(new EmbeddingRequest { Model = "tiny", Texts = ["still serving"] });
        Assert.Single(ok.Vectors);
    }
}
