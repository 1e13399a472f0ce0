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

    public static async Task<GrpcChatStream> ReadAllAsync(AsyncServerStreamingCall<ChatResponse> call)
    {
        using (call)
        {
            var responses = new List<ChatResponse>();
            await foreach (var response in call.ResponseStream.ReadAllAsync())
            {
                responses.Add(response);
            }

            return new GrpcChatStream(responses);
        }
    }

    /// <summary>A greedy Chat request for <paramref name="model"/>.</summary>
    public static ChatRequest GreedyChat(string model, params (ChatRole Role, string Content)[] messages) => new()
    {
        Model = model,
        Messages = { messages.Select(m => new ChatMessage { Role = m.Role, Content = m.Content }) },
        Sampling = new SamplingParams { Temperature = 0 },
    };
}

/// <summary>Every response of one Generate stream.</summary>
internal sealed record GrpcStream(IReadOnlyList<GenerateResponse> Responses)
{
    public string Text => string.Concat(Responses.Select(r => r.Text));

    public IReadOnlyList<int> TokenIds => Responses.SelectMany(r => r.TokenIds).ToArray();

    public GenerationFinal Final => Responses[^1].Final;
}

/// <summary>Every response of one Chat stream.</summary>
internal sealed record GrpcChatStream(IReadOnlyList<ChatResponse> Responses)
{
    public string Text => string.Concat(Responses.Select(r => r.Text));

    public IReadOnlyList<ToolCallDelta> ToolCallDeltas => Responses.SelectMany(r => r.ToolCallDeltas).ToArray();

    public ChatResponse Last => Responses[^1];

    public GenerationFinal Final => Responses[^1].Final;
}
