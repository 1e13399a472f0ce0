using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;
using EngineSampling = SovereignInference.Engine.Sampling.SamplingParams;
using FinishReason = SovereignInference.Contracts.V1.FinishReason;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>Generate over Grpc.Net.Client against the real server: the stream carries what the engine call yields.</summary>
public sealed class GrpcGenerateTests
{
    [Fact]
    public async Task Generate_streams_the_scripted_reply_and_ends_with_a_final_summary()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var stream = await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"))));

        Assert.Equal(" Hello world!", stream.Text);
        Assert.Equal(new[] { ScriptedModels.Id("▁Hello"), ScriptedModels.Id("▁world"), ScriptedModels.Id("!") }, stream.TokenIds.Take(3));
        Assert.All(stream.Responses.SkipLast(1), r => Assert.Null(r.Final));
        var final = stream.Final;
        Assert.Equal(FinishReason.Stop, final.FinishReason);
        Assert.Equal(2, final.Usage.PromptTokens);
        Assert.Equal(stream.TokenIds.Count, final.Usage.CompletionTokens);
        Assert.Equal(final.Usage.PromptTokens + final.Usage.CompletionTokens, final.Usage.TotalTokens);
        Assert.NotNull(final.Timings.TimeToFirstToken);
        Assert.True(final.Timings.TimeToFirstToken.ToTimeSpan() >= final.Timings.Queue.ToTimeSpan());
    }

    [Fact]
    public async Task Greedy_text_and_tokens_equal_the_engine_call_for_the_same_request()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var cases = new (GenerateRequest Grpc, GenerationRequest Engine)[]
        {
            (new GenerateRequest { Model = "scripted", Text = "[INST] Say hello [/INST]", Sampling = new SamplingParams { Temperature = 0 } },
             new GenerationRequest { Model = "scripted", Prompt = "[INST] Say hello [/INST]", Sampling = EngineSampling.Greedy }),
            (GrpcTestClient.Greedy(ScriptedModels.Prompt("▁loop"), maxTokens: 15),
             new GenerationRequest { Model = "scripted", PromptTokens = ScriptedModels.Prompt("▁loop"), MaxTokens = 15, Sampling = EngineSampling.Greedy }),
            (new GenerateRequest { Model = "scripted", Text = " utf", Sampling = new SamplingParams { Temperature = 0 } },
             new GenerationRequest { Model = "scripted", Prompt = " utf", Sampling = EngineSampling.Greedy }),
        };

        foreach (var (grpcRequest, engineRequest) in cases)
        {
            var viaGrpc = await GrpcTestClient.ReadAllAsync(client.Generate(grpcRequest));
            var updates = new List<GenerationUpdate>();
            await foreach (var update in server.Engine.GenerateAsync(engineRequest))
            {
                updates.Add(update);
            }

            Assert.Equal(string.Concat(updates.Select(u => u.Text)), viaGrpc.Text);
            Assert.Equal(updates.SelectMany(u => u.Tokens).Select(t => t.Token), viaGrpc.TokenIds);
            Assert.Equal(updates[^1].Usage!.CompletionTokens, viaGrpc.Final.Usage.CompletionTokens);
            Assert.Equal(updates[^1].Usage!.PromptTokens, viaGrpc.Final.Usage.PromptTokens);
        }

        // And the scripted expectations themselves, so that both adapters cannot agree on a wrong answer.
        Assert.Equal(" Hello world!", (await GrpcTestClient.ReadAllAsync(client.Generate(cases[0].Grpc))).Text);
        Assert.Equal(" a b a b a b a b a b a b a b a", (await GrpcTestClient.ReadAllAsync(client.Generate(cases[1].Grpc))).Text);
        Assert.Equal("é€😀", (await GrpcTestClient.ReadAllAsync(client.Generate(cases[2].Grpc))).Text);
    }

    [Fact]
    public async Task Multi_byte_characters_arrive_whole_in_every_delta()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var stream = await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("▁utf"))));

        Assert.Equal("é€😀", stream.Text);
        Assert.All(stream.Responses, r => Assert.DoesNotContain('\uFFFD', r.Text));
        Assert.Contains(stream.Responses, r => r.Text.Length == 0 && r.TokenIds.Count == 1);
    }

    [Fact]
    public async Task A_stop_string_ends_the_stream_without_being_sent_and_is_reported()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));
        request.Sampling.Stop.Add(" world");

        var stream = await GrpcTestClient.ReadAllAsync(client.Generate(request));

        Assert.Equal(" Hello", stream.Text);
        Assert.Equal(FinishReason.Stop, stream.Final.FinishReason);
        Assert.Equal(" world", stream.Final.MatchedStop);
    }

    [Fact]
    public async Task Logprobs_come_with_every_token_when_asked_and_not_otherwise()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = GrpcTestClient.Greedy(ScriptedModels.Prompt("▁loop"), maxTokens: 6);
        request.Sampling.Logprobs = 3;

        var with = await GrpcTestClient.ReadAllAsync(client.Generate(request));
        var without = await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("▁loop"), maxTokens: 6)));

        var logprobs = with.Responses.SelectMany(r => r.Logprobs).ToList();
        Assert.Equal(with.TokenIds, logprobs.Select(l => l.TokenId));
        Assert.All(logprobs, l =>
        {
            Assert.Equal(3, l.Top.Count);
            Assert.True(l.Logprob <= 0f);
            Assert.Equal(l.TokenId, l.Top[0].TokenId);
        });
        Assert.All(without.Responses, r => Assert.Empty(r.Logprobs));
        Assert.Equal(FinishReason.Length, with.Final.FinishReason);
        Assert.Equal(6, with.Final.Usage.CompletionTokens);
    }
}
