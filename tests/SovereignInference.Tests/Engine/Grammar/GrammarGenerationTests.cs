using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Grammar;

/// <summary>
/// Grammar-constrained generation on real llama.cpp with the random "tiny" model: at temperature 1 its
/// output is close to noise, so whatever parses and validates does so because of the grammar.
/// </summary>
public sealed class GrammarGenerationTests(TinyGrammarEngine llama) : IClassFixture<TinyGrammarEngine>
{
    private const string Model = TinyGrammarEngine.Model;
    private const string PersonSchema = SchemaValidator.PersonSchema;

    private EngineHarness Harness => llama.Harness;

    private static IReadOnlyList<int> Prompt => TinyGrammarEngine.Prompt;

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    [InlineData(5UL)]
    public async Task Json_schema_output_parses_and_validates(ulong seed)
    {
        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 400,
            Grammar = JsonSchemaGrammar.FromSchema(PersonSchema),
            Sampling = new SamplingParams { Temperature = 1, Seed = seed },
        });

        Assert.Equal(FinishReason.Stop, result.Finish);
        using var document = JsonDocument.Parse(result.Text);
        var errors = SchemaValidator.Validate(JsonDocument.Parse(PersonSchema).RootElement, document.RootElement);
        Assert.True(errors.Count == 0, $"output {result.Text} breaks the schema: {string.Join("; ", errors)}");
    }

    [Theory]
    [InlineData(11UL)]
    [InlineData(12UL)]
    [InlineData(13UL)]
    [InlineData(14UL)]
    [InlineData(15UL)]
    public async Task Json_object_output_is_a_json_object(ulong seed)
    {
        // Closing tokens are favoured so a random model ends its object in reasonable time; the grammar
        // alone decides what is allowed.
        var vocab = TestModels.Tiny().Vocabulary;
        var bias = new Dictionary<int, float>();
        foreach (var piece in new[] { "}", "]", "\"", "<0x7D>", "<0x5D>", "<0x22>" })
        {
            bias[vocab.IdOf(piece)] = 6;
        }

        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 480,
            Grammar = JsonSchemaGrammar.JsonObject(),
            Sampling = new SamplingParams { Temperature = 1, Seed = seed, LogitBias = bias },
        });

        Assert.Equal(FinishReason.Stop, result.Finish);
        using var document = JsonDocument.Parse(result.Text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }

    [Fact]
    public async Task End_of_generation_comes_exactly_when_the_grammar_is_complete()
    {
        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 50,
            IgnoreEos = false,
            Grammar = new GrammarSpec("root ::= \"yes\" | \"no\" | \"maybe so\""),
            Sampling = new SamplingParams { Temperature = 1, Seed = 7 },
        });

        Assert.Equal(FinishReason.Stop, result.Finish);
        Assert.Contains(result.Text, new[] { "yes", "no", "maybe so" });
    }

    [Fact]
    public async Task Unconstrained_output_of_the_same_seed_is_not_json()
    {
        // Shows the random model does not produce JSON on its own, so the tests above test the grammar.
        var result = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 40,
            Sampling = new SamplingParams { Temperature = 1, Seed = 1 },
        });

        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(result.Text));
    }

    [Fact]
    public async Task An_invalid_grammar_is_rejected_before_admission_and_the_engine_keeps_serving()
    {
        var error = await Assert.ThrowsAsync<EngineException>(() => Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 5,
            Grammar = new GrammarSpec("root ::= \"x\"{5,3}"),
        }));

        Assert.Equal(EngineErrorCode.InvalidArgument, error.Code);
        Assert.Equal("response_format", error.Param);
        Assert.Equal(0, Harness.Engine.ActiveSequences);

        var ok = await Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 10,
            Grammar = new GrammarSpec("root ::= \"ok\""),
            Sampling = new SamplingParams { Temperature = 0 },
        });
        Assert.Equal("ok", ok.Text);
    }

    [Fact]
    public async Task Constrained_and_free_sequences_share_a_batch()
    {
        var constrained = Enumerable.Range(0, 3).Select(i => Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 400,
            Grammar = JsonSchemaGrammar.FromSchema(PersonSchema),
            Sampling = new SamplingParams { Temperature = 1, Seed = (ulong)(100 + i) },
        })).ToList();
        var free = Harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = 30,
            IgnoreEos = true,
            Sampling = new SamplingParams { Temperature = 1, Seed = 1 },
        });

        var results = await Task.WhenAll(constrained);
        Assert.Equal(30, (await free).Tokens.Count);
        foreach (var result in results)
        {
            using var document = JsonDocument.Parse(result.Text);
            Assert.Empty(SchemaValidator.Validate(JsonDocument.Parse(PersonSchema).RootElement, document.RootElement));
        }
    }
}
