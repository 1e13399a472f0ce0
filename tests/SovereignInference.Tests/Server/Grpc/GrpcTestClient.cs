using Grpc.Core;
using Grpc.Net.Client;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>Grpc.Net.Client against the harness's gRPC listener, and helpers that read a whole stream.</summary>
internal static class GrpcTestClient
{
    public static GrpcChannel Channel(ServerHarness server) =>
        GrpcChannel.ForAddress(server.GrpcBase ?? throw new InvalidOperationException("the gRPC API is off"), new GrpcChannelOptions { MaxReceiveMessageSize = null });

    public static GenerateRequest Greedy(IEnumerable<int> prompt, int? maxTokens = null, string model = "scripted")
    {
        var request = new GenerateRequest { Model = model, Tokens = new TokenIds { Ids = { prompt } }, Sampling = new SamplingParams { Temperature = 0 } };
        if (maxTokens is { } max)
        {
            request.Sampling.MaxTokens = max;
        }

        return request;
    }

    public static async Task<GrpcStream> ReadAllAsync(AsyncServerStreamingCall<GenerateResponse> call)
    {
        using (call)
        {
            var responses = new List<GenerateResponse>();
            await foreach (var response in call.ResponseStream.ReadAllAsync())
            {
                responses.Add(response);
            }

            return new GrpcStream(responses);
        }
    }
}

/// <summary>Every response of one Generate stream.</summary>
internal sealed record GrpcStream(IReadOnlyList<GenerateResponse> Responses)
{
    public string Text => string.Concat(Responses.Select(r => r.Text));

    public IReadOnlyList<int> TokenIds => Responses.SelectMany(r => r.TokenIds).ToArray();

    public GenerationFinal Final => Responses[^1].Final;
}
