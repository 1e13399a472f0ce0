using Google.Rpc;
using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;
using StatusCode = Grpc.Core.StatusCode;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>Bad requests get a precise status naming the field, never UNKNOWN or INTERNAL, and the server keeps serving.</summary>
public sealed class GrpcBadInputTests
{
    public static TheoryData<string, string, string> InvalidRequests => new()
    {
        // case name, mutation, expected field path
        { "empty text prompt", "empty-text", "prompt.text" },
        { "empty token prompt", "empty-tokens", "prompt" },
        { "no prompt", "no-prompt", "prompt" },
        { "token id outside the vocabulary", "token-outside-vocab", "prompt" },
        { "negative token id", "negative-token", "prompt" },
        { "absurd max_tokens", "huge-max-tokens", "sampling.max_tokens" },
        { "zero max_tokens", "zero-max-tokens", "sampling.max_tokens" },
        { "top_p above 1", "top-p", "sampling.top_p" },
        { "temperature above 2", "temperature", "sampling.temperature" },
        { "logit_bias key outside the vocabulary", "logit-bias", "sampling.logit_bias" },
        { "too many logprobs", "logprobs", "sampling.logprobs" },
        { "NUL in the prompt", "nul", "prompt" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_generate_requests_get_INVALID_ARGUMENT_naming_the_field_and_the_server_keeps_serving(string name, string mutation, string field)
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));
        var vocab = ScriptedModels.Engine.Vocabulary.Count;
        switch (mutation)
        {
            case "empty-text": request.Text = ""; break;
            case "empty-tokens": request.Tokens = new TokenIds(); break;
            case "no-prompt": request.ClearPrompt(); break;
            case "token-outside-vocab": request.Tokens.Ids.Add(vocab); break;
            case "negative-token": request.Tokens.Ids.Add(-1); break;
            case "huge-max-tokens": request.Sampling.MaxTokens = int.MaxValue; break;
            case "zero-max-tokens": request.Sampling.MaxTokens = 0; break;
            case "top-p": request.Sampling.TopP = 1.5f; break;
            case "temperature": request.Sampling.Temperature = 7f; break;
            case "logit-bias": request.Sampling.LogitBias[vocab + 5] = 1f; break;
            case "logprobs": request.Sampling.Logprobs = 21; break;
            case "nul": request.Text = "Hello\0world"; break;
            default: throw new ArgumentOutOfRangeException(nameof(mutation), mutation, name);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(request)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail, StringComparison.Ordinal);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Equal(field, Assert.Single(badRequest.FieldViolations).Field);
        await AssertStillServesAsync(client);
    }

    [Fact]
    public async Task An_unknown_model_is_NOT_FOUND_for_every_rpc()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var generate = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy([1, 2], model: "nope"))));
        var tokenize = await Assert.ThrowsAsync<RpcException>(async () => await client.TokenizeAsync(new TokenizeRequest { Model = "nope", Text = "hi" }));
        var detokenize = await Assert.ThrowsAsync<RpcException>(async () => await client.DetokenizeAsync(new DetokenizeRequest { Model = "", TokenIds = { 1 } }));

        Assert.All(new[] { generate, tokenize, detokenize }, e => Assert.Equal(StatusCode.NotFound, e.StatusCode));
        Assert.Contains("nope", generate.Status.Detail, StringComparison.Ordinal);
        await AssertStillServesAsync(client);
    }

    [Fact]
    public async Task A_message_over_the_receive_limit_is_RESOURCE_EXHAUSTED_and_the_server_keeps_serving()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["GrpcMaxReceiveBytes"] = "65536" });
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        var request = new GenerateRequest { Model = "scripted", Text = new string('x', 70_000) };

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(request)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillServesAsync(client);
    }

    [Fact]
    public async Task A_full_queue_is_RESOURCE_EXHAUSTED_with_a_retry_delay_in_the_trailers()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = "1", ["QueueCapacity"] = "1" });
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);
        using var cts = new CancellationTokenSource();
        var running = client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(6)), cancellationToken: cts.Token);
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 1, TimeSpan.FromSeconds(30), "one running");
        var queued = client.Generate(GrpcTestClient.Greedy(ScriptedModels.LoopPrompt(6, seed: 2)), cancellationToken: cts.Token);
        var scheduler = server.Engine.GetReadyModel("scripted").Scheduler!;
        await EngineHarness.WaitUntilAsync(() => scheduler.QueuedRequests == 1, TimeSpan.FromSeconds(30), "one queued");

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]")))));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.True(int.Parse(error.Trailers.GetValue("retry-after-ms")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        var retry = error.GetRpcStatus()?.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        Assert.True(retry.RetryDelay.ToTimeSpan() > TimeSpan.Zero);

        await cts.CancelAsync();
        running.Dispose();
        queued.Dispose();
        await EngineHarness.WaitUntilAsync(() => server.Engine.ActiveSequences == 0 && scheduler.QueuedRequests == 0, TimeSpan.FromSeconds(30), "drained");
        await AssertStillServesAsync(client);
    }

    private static async Task AssertStillServesAsync(Inference.InferenceClient client)
    {
        var ok = await GrpcTestClient.ReadAllAsync(client.Generate(GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"))));
        Assert.Equal(" Hello world!", ok.Text);
    }
}
