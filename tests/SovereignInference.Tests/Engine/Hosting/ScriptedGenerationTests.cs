using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Hosting;

/// <summary>One real engine (llama.cpp CPU) over the scripted model: 4 slots of 64 tokens.</summary>
public sealed class ScriptedEngineFixture : IAsyncLifetime
{
    public const string Model = "scripted";
    public const int Context = 64;

    public EngineHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var path = ScriptedModels.Engine.Path;
        Harness = await EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [path],
            Aliases = new() { [Path.GetFileName(path)] = Model },
            Parallel = 4,
            CtxSize = Context,
        });
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

public sealed class ScriptedGenerationTests(ScriptedEngineFixture fixture) : IClassFixture<ScriptedEngineFixture>
{
    private const string Model = ScriptedEngineFixture.Model;
    private EngineHarness Harness => fixture.Harness;

    [Fact]
    public async Task Chat_prompt_gives_the_scripted_text_and_ends_at_eos()
    {
        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            Prompt = "[INST] Say hello [/INST]",
            Sampling = SamplingParams.Greedy,
        });

        Assert.Equal(" Hello world!", result.Text);
        Assert.Equal(FinishReason.Stop, result.Finish);
        Assert.Null(result.Final.MatchedStop);
        Assert.Equal(3, result.Final.Usage!.CompletionTokens);
        Assert.Equal(
            new[] { ScriptedModels.Id("▁Hello"), ScriptedModels.Id("▁world"), ScriptedModels.Id("!") },
            result.Tokens);
    }

    [Fact]
    public async Task Stop_string_spanning_tokens_ends_generation_and_is_never_emitted()
    {
        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            Prompt = "[INST] Say hello [/INST]",
            Stop = ["lo wor"],
            Sampling = SamplingParams.Greedy,
        });

        Assert.Equal(" Hel", result.Text);
        Assert.Equal(FinishReason.Stop, result.Finish);
        Assert.Equal("lo wor", result.Final.MatchedStop);
        Assert.All(result.Updates, u => Assert.DoesNotContain("lo", u.Text, StringComparison.Ordinal));
        Assert.Equal(2, result.Final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Multibyte_characters_split_across_tokens_are_held_until_whole()
    {
        var result = await Harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("▁utf"), 32));

        Assert.Equal("é€😀", result.Text);
        Assert.Equal(FinishReason.Stop, result.Finish);
        Assert.Equal(9, result.Final.Usage!.CompletionTokens);
        var texts = result.Updates.Where(u => u.Tokens.Count > 0).Select(u => u.Text).ToArray();
        Assert.Equal(["", "é", "", "", "€", "", "", "", "😀"], texts);
        Assert.All(result.Updates, u => Assert.DoesNotContain('\uFFFD', u.Text));
    }

    [Fact]
    public async Task Max_tokens_ends_with_length()
    {
        var result = await Harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("▁loop"), 5));

        Assert.Equal(" a b a b a", result.Text);
        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(5, result.Final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Exhausted_context_ends_with_length()
    {
        var prompt = ScriptedModels.Prompt("▁loop");
        var result = await Harness.RunAsync(new GenerationRequest { Model = Model, PromptTokens = prompt, Sampling = SamplingParams.Greedy });

        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(ScriptedEngineFixture.Context - prompt.Length, result.Final.Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Repeated_prompt_reuses_the_cached_prefix()
    {
        var prompt = ScriptedModels.LoopPrompt(30, seed: 7);
        var first = await Harness.RunAsync(EngineHarness.Greedy(Model, prompt, 3));
        var second = await Harness.RunAsync(EngineHarness.Greedy(Model, prompt, 3));

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(prompt.Length - 1, second.Final.Usage!.CachedPromptTokens);
        Assert.Equal(prompt.Length, second.Final.Usage!.PromptTokens);
    }

    [Fact]
    public async Task Unknown_model_is_model_not_found()
    {
        var error = await Assert.ThrowsAsync<EngineException>(() => Harness.RunAsync(EngineHarness.Greedy("no-such-model", [1, 2], 4)));
        Assert.Equal(EngineErrorCode.ModelNotFound, error.Code);
        Assert.Contains("no-such-model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_refused_before_any_work()
    {
        var error = await Assert.ThrowsAsync<EngineException>(
            () => Harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.LoopPrompt(ScriptedEngineFixture.Context + 6), 4)));
        Assert.Equal(EngineErrorCode.PromptTooLong, error.Code);
        Assert.Contains("70 tokens", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Harness.Scheduler(Model).ActiveSequences);
    }

    public static TheoryData<string, GenerationRequest> InvalidRequests => new()
    {
        { "prompt", new GenerationRequest { Model = Model, PromptTokens = [1, 99_999] } },
        { "prompt", new GenerationRequest { Model = Model, PromptTokens = [1, -1] } },
        { "prompt", new GenerationRequest { Model = Model, PromptTokens = [] } },
        { "prompt", new GenerationRequest { Model = Model } },
        { "prompt", new GenerationRequest { Model = Model, Prompt = "a\0b" } },
        { "max_tokens", new GenerationRequest { Model = Model, PromptTokens = [1], MaxTokens = 0 } },
        { "max_tokens", new GenerationRequest { Model = Model, PromptTokens = [1], MaxTokens = -5 } },
        { "max_tokens", new GenerationRequest { Model = Model, PromptTokens = [1], MaxTokens = 1_000_000_000 } },
        { "temperature", new GenerationRequest { Model = Model, PromptTokens = [1], Sampling = new SamplingParams { Temperature = float.NaN } } },
        { "top_p", new GenerationRequest { Model = Model, PromptTokens = [1], Sampling = new SamplingParams { TopP = 0f } } },
        { "logit_bias", new GenerationRequest { Model = Model, PromptTokens = [1], Sampling = new SamplingParams { LogitBias = new Dictionary<int, float> { [123_456] = 5 } } } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_request_is_refused_with_the_field_named_and_the_engine_keeps_serving(string param, GenerationRequest request)
    {
        var error = await Assert.ThrowsAsync<EngineException>(() => Harness.RunAsync(request));
        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal(param, error.Param);

        var ok = await Harness.RunAsync(EngineHarness.Greedy(Model, ScriptedModels.Prompt("[/INST]"), 8));
        Assert.Equal(" Hello world!", ok.Text);
    }

    [Fact]
    public void Generated_model_vocabulary_has_the_scripted_pieces()
    {
        Assert.True(ScriptedModels.Engine.Vocabulary.Contains("▁loop"));
        Assert.Equal(TestVocabulary.EosId, ScriptedModels.Id("</s>"));
    }
}
