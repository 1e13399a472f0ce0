using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Embedding;

/// <summary>Embeddings on real llama.cpp (mean pooling) with the random "tiny" model.</summary>
public sealed class EmbeddingTests : IAsyncLifetime
{
    private const string Model = "tiny";
    private const string NotForEmbeddings = "scripted";
    private const int Context = 64;
    private EngineHarness _harness = null!;

    public async Task InitializeAsync()
    {
        var tiny = TestModels.Tiny().Path;
        var scripted = ScriptedModels.Engine.Path;
        _harness = await EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [tiny, scripted],
            Aliases = new() { [Path.GetFileName(tiny)] = Model, [Path.GetFileName(scripted)] = NotForEmbeddings },
            Embeddings = [Model],
            Parallel = 2,
            CtxSize = Context,
        });
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private InferenceEngine Engine => _harness.Engine;

    [Fact]
    public async Task Vectors_have_n_embd_dimensions_and_unit_norm()
    {
        var result = await Engine.EmbedAsync(Model, ["Hello world"]);

        var vector = Assert.Single(result.Vectors);
        Assert.Equal(TestModels.Tiny().Shape.EmbeddingLength, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
        Assert.Contains(vector, v => v != 0);
        Assert.Equal(Engine.GetReadyModel(Model).Tokenizer!.Tokenize("Hello world", addBos: true, parseSpecial: false).Length, result.PromptTokens);
    }

    [Fact]
    public async Task Same_input_gives_the_same_vector_and_different_inputs_differ()
    {
        var first = await Engine.EmbedAsync(Model, ["the weather today", "a good day"]);
        var again = await Engine.EmbedAsync(Model, ["the weather today"]);

        Assert.Equal(first.Vectors[0], again.Vectors[0]);
        Assert.NotEqual(first.Vectors[0], first.Vectors[1]);
        var cosine = first.Vectors[0].Zip(first.Vectors[1], (a, b) => (double)a * b).Sum();
        Assert.True(cosine < 0.9999, $"different inputs gave nearly the same vector (cosine {cosine})");
    }

    [Fact]
    public async Task A_batch_matches_inputs_embedded_one_by_one()
    {
        string[] inputs = ["one", "two three", "Hello world", "test model help please"];

        var batch = await Engine.EmbedAsync(Model, inputs);

        Assert.Equal(inputs.Length, batch.Vectors.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            var single = await Engine.EmbedAsync(Model, [inputs[i]]);
            Assert.Equal(single.Vectors[0], batch.Vectors[i]);
        }
    }

    [Fact]
    public async Task Token_inputs_match_text_inputs()
    {
        var tokens = Engine.GetReadyModel(Model).Tokenizer!.Tokenize("Hello world", addBos: true, parseSpecial: false);

        var fromTokens = await Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [tokens] });
        var fromText = await Engine.EmbedAsync(Model, ["Hello world"]);

        Assert.Equal(fromText.Vectors[0], fromTokens.Vectors[0]);
        Assert.Equal(tokens.Length, fromTokens.PromptTokens);
    }

    [Fact]
    public async Task A_model_not_configured_for_embeddings_is_rejected_naming_the_model()
    {
        var error = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(NotForEmbeddings, ["x"]));

        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal("model", error.Param);
        Assert.Contains("not configured for embeddings", error.Message, StringComparison.Ordinal);
        Assert.False(Engine.GetReadyModel(NotForEmbeddings).SupportsEmbeddings);
        Assert.True(Engine.GetReadyModel(Model).SupportsEmbeddings);
    }

    [Fact]
    public async Task Bad_inputs_are_rejected_before_native_code_and_the_model_keeps_serving()
    {
        var vocab = TestModels.Tiny().Vocabulary.Count;
        var empty = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(Model, []));
        var emptyString = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(Model, ["ok", ""]));
        var outside = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [[1, vocab]] }));
        var negative = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [[-1]] }));
        var emptyTokens = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [[]] }));
        var tooLong = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [Enumerable.Repeat(5, Context + 1).ToArray()] }));
        var both = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync(new EmbeddingRequest { Model = Model, Texts = ["a"], TokenInputs = [[1]] }));
        var unknown = await Assert.ThrowsAsync<EngineException>(() => Engine.EmbedAsync("nope", ["a"]));

        foreach (var error in new[] { empty, emptyString, outside, negative, emptyTokens, both })
        {
            Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
            Assert.Equal("input", error.Param);
        }

        Assert.Equal(EngineErrorCode.PromptTooLong, tooLong.Code);
        Assert.Equal("input", tooLong.Param);
        Assert.Equal(EngineErrorCode.ModelNotFound, unknown.Code);

        var ok = await Engine.EmbedAsync(new EmbeddingRequest { Model = Model, TokenInputs = [Enumerable.Repeat(5, Context).ToArray()] });
        Assert.Equal(1.0, Math.Sqrt(ok.Vectors[0].Sum(v => (double)v * v)), 4);
    }

    [Fact]
    public async Task Generation_still_works_on_a_model_that_also_embeds()
    {
        var result = await _harness.RunAsync(EngineHarness.Greedy(Model, [TestVocabulary.BosId, 300], 5) with { IgnoreEos = true });

        Assert.Equal(5, result.Tokens.Count);
    }
}
