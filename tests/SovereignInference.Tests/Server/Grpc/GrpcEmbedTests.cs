using Google.Rpc;
using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using StatusCode = Grpc.Core.StatusCode;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>The Embed RPC over the engine's embedding call: the same vectors as HTTP /v1/embeddings.</summary>
public sealed class GrpcEmbedTests
{
    [Fact]
    public async Task Embed_returns_the_vectors_http_returns_in_input_order()
    {
        await using var server = await EmbeddingsEndpointTests.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        string[] inputs = ["Hello world", "the weather today"];

        var viaGrpc = await client.EmbedAsync(new EmbedRequest { Model = "tiny", Inputs = { inputs } });
        var viaHttp = (await OpenAiTestSupport.Client(server).GetEmbeddingClient("tiny").GenerateEmbeddingsAsync(inputs)).Value;

        Assert.Equal(inputs.Length, viaGrpc.Embeddings.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(viaHttp[i].ToFloats().ToArray(), viaGrpc.Embeddings[i].Values.ToArray());
        }

        Assert.Equal(TestModels.Tiny().Shape.EmbeddingLength, viaGrpc.Embeddings[0].Values.Count);
        Assert.Equal(viaHttp.Usage.InputTokenCount, viaGrpc.Usage.PromptTokens);
        Assert.Equal(viaGrpc.Usage.PromptTokens, viaGrpc.Usage.TotalTokens);
        Assert.Equal(0, viaGrpc.Usage.CompletionTokens);

        var tokens = server.Engine.GetReadyModel("tiny").Tokenizer!.Tokenize("Hello world", addBos: true, parseSpecial: false);
        var fromTokens = await client.EmbedAsync(new EmbedRequest { Model = "tiny", TokenInputs = { new TokenIds { Ids = { tokens } } }, Normalize = true });
        Assert.Equal(viaGrpc.Embeddings[0].Values, fromTokens.Embeddings[0].Values);
    }

    [Fact]
    public async Task Bad_embed_requests_are_INVALID_ARGUMENT_or_NOT_FOUND_naming_the_field()
    {
        await using var server = await EmbeddingsEndpointTests.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var cases = new (EmbedRequest Request, StatusCode Status, string Field)[]
        {
            (new EmbedRequest { Model = "scripted", Inputs = { "hi" } }, StatusCode.InvalidArgument, "model"),
            (new EmbedRequest { Model = "no-such-model", Inputs = { "hi" } }, StatusCode.NotFound, "model"),
            (new EmbedRequest { Model = "tiny" }, StatusCode.InvalidArgument, "inputs"),
            (new EmbedRequest { Model = "tiny", Inputs = { "hi" }, TokenInputs = { new TokenIds { Ids = { 1 } } } }, StatusCode.InvalidArgument, "inputs"),
            (new EmbedRequest { Model = "tiny", Inputs = { "hi" }, Normalize = false }, StatusCode.InvalidArgument, "normalize"),
            (new EmbedRequest { Model = "tiny", TokenInputs = { new TokenIds { Ids = { 99999999 } } } }, StatusCode.InvalidArgument, "input"),
        };

        foreach (var (request, status, field) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.EmbedAsync(request));
            Assert.Equal(status, error.StatusCode);
            if (status == StatusCode.InvalidArgument)
            {
                Assert.Equal(field, Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
            }
            else
            {
                Assert.Contains(field, error.Status.Detail, StringComparison.Ordinal);
            }
        }

        var ok = await client.EmbedAsync(new EmbedRequest { Model = "tiny", Inputs = { "still serving" } });
        Assert.Single(ok.Embeddings);
    }
}
