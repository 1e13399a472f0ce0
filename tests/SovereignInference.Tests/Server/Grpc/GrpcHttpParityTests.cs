using System.Text.Json;
using SovereignInference.Contracts.V1;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;
using FinishReason = SovereignInference.Contracts.V1.FinishReason;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>gRPC Generate and HTTP /v1/completions are two doors to one engine call: same request, same text.</summary>
public sealed class GrpcHttpParityTests
{
    [Fact]
    public async Task Greedy_generate_text_equals_http_completions_text_for_the_same_request()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.TinyAndScripted());
        using var channel = GrpcTestClient.Channel(server);
        var grpc = new Inference.InferenceClient(channel);
        var cases = new (string Model, string Prompt, int MaxTokens, string Stop)[]
        {
            ("tiny", "Hello world", 32, ""),
            ("tiny", "The weather today é€", 20, ""),
            ("scripted", "[INST] Say hello [/INST]", 16, ""),
            ("scripted", " loop", 15, ""),
            ("scripted", " loop", 15, " b a"),
            ("scripted", " utf", 8, ""),
        };

        var nonEmpty = 0;
        foreach (var (model, prompt, maxTokens, stop) in cases)
        {
            var request = new GenerateRequest { Model = model, Text = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens } };
            if (stop.Length > 0)
            {
                request.Sampling.Stop.Add(stop);
            }

            var viaGrpc = await GrpcTestClient.ReadAllAsync(grpc.Generate(request));

            var body = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["model"] = model,
                ["prompt"] = prompt,
                ["temperature"] = 0,
                ["max_tokens"] = maxTokens,
                ["stop"] = stop.Length > 0 ? new[] { stop } : Array.Empty<string>(),
            });
            var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/completions", body);
            using (json)
            {
                Assert.True(response.IsSuccessStatusCode, json.RootElement.GetRawText());
                var choice = json.RootElement.GetProperty("choices")[0];
                Assert.Equal(choice.GetProperty("text").GetString(), viaGrpc.Text);
                Assert.Equal(choice.GetProperty("finish_reason").GetString() == "length" ? FinishReason.Length : FinishReason.Stop, viaGrpc.Final.FinishReason);
                var usage = json.RootElement.GetProperty("usage");
                Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), viaGrpc.Final.Usage.PromptTokens);
                Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), viaGrpc.Final.Usage.CompletionTokens);
            }

            nonEmpty += viaGrpc.Text.Length > 0 ? 1 : 0;
        }

        Assert.Equal(cases.Length, nonEmpty);
    }
}
