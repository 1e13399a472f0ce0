using System.Text.Json;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Gguf;
using SovereignInference.LlamaCpp;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Grammar;

/// <summary>
/// llama.cpp's own grammar parser and sampler (through the project's LlamaCpp constraint) over the random
/// "tiny" model: at temperature 1 its output is close to noise, so whatever parses and validates does so
/// because of the grammar. Shared by a test class as an xunit class fixture.
/// </summary>
public sealed class TinyGrammarEngine : IAsyncLifetime
{
    public const string Model = "tiny";

    private EngineHarness _harness = null!;
    private LoadedModel _direct = null!;

    public EngineHarness Harness => _harness;

    public static IReadOnlyList<int> Prompt => [TestVocabulary.BosId, Id("▁Hello"), Id("▁world")];

    public async Task InitializeAsync()
    {
        var path = TestModels.Tiny().Path;
        _harness = await EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [path],
            Aliases = new() { [Path.GetFileName(path)] = Model },
            Parallel = 4,
            CtxSize = 512,
        });
        _direct = new LlamaBackend().Load(new ModelLoadSpec(path, 64, 1, 64, 0, null, "f16", 2));
    }

    public async Task DisposeAsync()
    {
        _direct.Dispose();
        await _harness.DisposeAsync();
    }

    /// <summary>
    /// Whether llama.cpp's grammar accepts exactly <paramref name="text"/>: every token of it in turn, then
    /// end-of-generation (the grammar is complete). Throws EngineException when llama.cpp cannot parse the grammar.
    /// </summary>
    public bool Accepts(GrammarSpec spec, string text)
    {
        using var constraint = _direct.Constraints!.Create(spec);
        var logits = new float[_direct.Runner.VocabSize];
        // Byte tokens (<0x..>), one per UTF-8 byte: the tokenizer would add SentencePiece's leading space.
        var vocab = TestModels.Tiny().Vocabulary;
        foreach (var token in System.Text.Encoding.UTF8.GetBytes(text).Select(b => vocab.IdOf($"<0x{b:X2}>")))
        {
            Array.Clear(logits);
            constraint.Apply(logits);
            if (float.IsNegativeInfinity(logits[token]))
            {
                return false;
            }

            constraint.Accept(token);
        }

        Array.Clear(logits);
        constraint.Apply(logits);
        return !float.IsNegativeInfinity(logits[TestVocabulary.EosId]);
    }

    /// <summary>
    /// Samples <paramref name="samples"/> outputs under <paramref name="spec"/> (different seeds, side by side)
    /// and asserts each ends by itself, parses as JSON and is valid against <paramref name="schema"/>
    /// (JsonSchema.Net) with finite numbers. <paramref name="favour"/> biases pieces (each also as its byte
    /// token) to steer noise: towards closing characters where nothing bounds length or depth, or into a
    /// branch the model rarely takes. The grammar alone decides what is allowed.
    /// </summary>
    public async Task<IReadOnlyList<string>> AssertSamplesValidAsync(string schema, GrammarSpec spec, string favour = "", int samples = 8, int maxTokens = 400)
    {
        var vocab = TestModels.Tiny().Vocabulary;
        var bias = new Dictionary<int, float>();
        foreach (var c in favour)
        {
            bias[vocab.IdOf(c.ToString())] = 4;
            bias[vocab.IdOf($"<0x{(int)c:X2}>")] = 4;
        }

        var runs = Enumerable.Range(1, samples).Select(seed => _harness.RunAsync(new GenerationRequest
        {
            Model = Model,
            PromptTokens = Prompt,
            MaxTokens = maxTokens,
            Grammar = spec,
            Sampling = new SamplingParams { Temperature = 1, Seed = (ulong)seed, LogitBias = bias },
        }));
        var results = await Task.WhenAll(runs);

        using var schemaDocument = JsonDocument.Parse(schema);
        foreach (var result in results)
        {
            Assert.True(result.Finish == FinishReason.Stop, $"did not finish ({result.Finish}): {result.Text}");
            using var document = JsonDocument.Parse(result.Text);
            var errors = SchemaValidator.Validate(schemaDocument.RootElement, document.RootElement);
            Assert.True(errors.Count == 0, $"output {result.Text} breaks the schema: {string.Join("; ", errors)}");
        }

        return [.. results.Select(r => r.Text)];
    }

    /// <summary>Closing characters, for <see cref="AssertSamplesValidAsync"/> on grammars without a bound.</summary>
    public const string Closing = "}]\"";

    private static int Id(string piece) => TestModels.Tiny().Vocabulary.IdOf(piece);
}
