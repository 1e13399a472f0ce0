using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Gguf;
using SovereignInference.Tests.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>Bad files and impossible plans are skipped with a named reason; the good models serve.</summary>
public sealed class ModelLoadingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Malformed_gguf_corpus_is_skipped_with_named_errors_and_the_good_model_serves()
    {
        var names = MalformedGgufCorpus.Names.ToArray();
        Assert.True(names.Length >= 20, $"corpus has {names.Length} files");
        foreach (var name in names)
        {
            await File.WriteAllBytesAsync(_dir.File(name + ".gguf"), MalformedGgufCorpus.Get(name).Build());
        }

        File.Copy(ScriptedModels.Engine.Path, _dir.File("good.gguf"));

        await using var harness = await EngineHarness.StartAsync(new EngineOptions { ModelsDir = _dir.Path, Parallel = 2, CtxSize = 64 });
        var engine = harness.Engine;

        Assert.True(engine.IsReady);
        Assert.Equal(ModelState.Ready, engine.Models.Single(m => m.Id == "good").State);
        foreach (var name in names)
        {
            var entry = engine.Models.Single(m => m.Id == name);
            Assert.Equal(ModelState.Failed, entry.State);
            Assert.Contains(name + ".gguf", entry.Error, StringComparison.Ordinal);
        }

        var failed = await Assert.ThrowsAsync<EngineException>(() => harness.RunAsync(EngineHarness.Greedy(names[0], [1, 2], 2)));
        Assert.Equal(EngineErrorCode.ModelNotReady, failed.Code);

        var ok = await harness.RunAsync(EngineHarness.Greedy("good", ScriptedModels.Prompt("[/INST]"), 8));
        Assert.Equal(" Hello world!", ok.Text);
    }

    [Fact]
    public async Task Semantic_corpus_never_reaches_llama_cpp_each_file_is_skipped_with_its_reason_and_the_good_models_serve()
    {
        var names = SemanticGgufCorpus.Names.ToArray();
        foreach (var name in names)
        {
            await File.WriteAllBytesAsync(_dir.File(name + ".gguf"), SemanticGgufCorpus.Build(name));
        }

        // The unmutated base, rewritten by the same mutator that made the corpus: it must load in real llama.cpp and
        // generate, so every corpus file is refused for its one change and not for how it was written.
        await File.WriteAllBytesAsync(_dir.File("base.gguf"), new GgufMutator(SemanticGgufCorpus.Base()).Build());
        File.Copy(ScriptedModels.Engine.Path, _dir.File("good.gguf"));

        await using var harness = await EngineHarness.StartAsync(new EngineOptions { ModelsDir = _dir.Path, Parallel = 1, CtxSize = 64 });
        var engine = harness.Engine;

        Assert.Equal(ModelState.Ready, engine.Models.Single(m => m.Id == "good").State);
        Assert.Equal(ModelState.Ready, engine.Models.Single(m => m.Id == "base").State);
        foreach (var name in names)
        {
            var entry = engine.Models.Single(m => m.Id == name);
            var expected = SemanticGgufCorpus.Get(name);
            Assert.Equal(ModelState.Failed, entry.State);
            Assert.Null(entry.Instance);
            Assert.Contains(name + ".gguf", entry.Error, StringComparison.Ordinal);
            Assert.Contains($"({expected.Expected})", entry.Error, StringComparison.Ordinal);
            Assert.Contains(expected.Mentions, entry.Error, StringComparison.Ordinal);
        }

        var refused = await Assert.ThrowsAsync<EngineException>(() => harness.RunAsync(EngineHarness.Greedy("rms-epsilon-nan", [1, 2], 2)));
        Assert.Equal(EngineErrorCode.ModelNotReady, refused.Code);

        var fromBase = await harness.RunAsync(EngineHarness.Greedy("base", [1, 300, 301], 4));
        Assert.NotEmpty(fromBase.Tokens);
        var ok = await harness.RunAsync(EngineHarness.Greedy("good", ScriptedModels.Prompt("[/INST]"), 8));
        Assert.Equal(" Hello world!", ok.Text);
    }

    [Fact]
    public async Task Memory_plan_that_cannot_fit_is_refused_with_a_clear_message()
    {
        File.Copy(TestModels.Tiny().Path, _dir.File("tiny.gguf"));
        var options = new EngineOptions { ModelsDir = _dir.Path, Parallel = 4, CtxSize = 1024 };

        // The same plan against two explicit budgets: 1 GiB holds it, 1 MiB (less than the weights alone) does not.
        await using (var roomy = await EngineHarness.StartAsync(options, new MemoryBudgetBackend(1L << 30)))
        {
            var fits = Assert.Single(roomy.Engine.Models);
            Assert.Equal(ModelState.Ready, fits.State);
            Assert.True(fits.Plan!.TotalBytes < fits.Plan.AvailableBytes, fits.Plan.ToString());
        }

        await using var harness = await EngineHarness.StartAsync(options, new MemoryBudgetBackend(1L << 20));

        var entry = Assert.Single(harness.Engine.Models);
        Assert.Equal(ModelState.Failed, entry.State);
        Assert.Contains("memory plan does not fit", entry.Error, StringComparison.Ordinal);
        Assert.Contains("tiny.gguf", entry.Error, StringComparison.Ordinal);
        Assert.False(harness.Engine.IsReady);
        Assert.Equal(1L << 20, entry.Plan!.AvailableBytes);
        Assert.True(entry.Plan.TotalBytes > entry.Plan.AvailableBytes, entry.Plan.ToString());
    }

    [Fact]
    public async Task The_memory_plan_counts_the_embedding_context_of_a_model_that_serves_embeddings()
    {
        File.Copy(TestModels.Tiny().Path, _dir.File("tiny.gguf"));
        File.Copy(TestModels.Tiny().Path, _dir.File("other.gguf"));

        await using var harness = await EngineHarness.StartAsync(new EngineOptions { ModelsDir = _dir.Path, Parallel = 2, CtxSize = 256, KvType = "q8_0", Embeddings = ["tiny"] });

        var embedding = harness.Engine.Models.Single(m => m.Id == "tiny").Plan!;
        var plain = harness.Engine.Models.Single(m => m.Id == "other").Plan!;
        Assert.Equal(0, plain.EmbeddingKvBytes);
        Assert.Equal(embedding.KvBytesTotal, plain.KvBytesTotal);
        // One more sequence of the same length, with the embedding context's F16 cache (q8_0 would be ~half).
        Assert.True(embedding.EmbeddingKvBytes > embedding.KvBytesPerSlot, $"{embedding.EmbeddingKvBytes} vs {embedding.KvBytesPerSlot}");
        Assert.True(embedding.TotalBytes > plain.TotalBytes);
        Assert.Contains("embedding context", embedding.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Model_id_is_the_file_name_unless_an_alias_is_configured()
    {
        var aliases = new Dictionary<string, string> { ["mistral-7b-instruct-v0.3.Q4_K_M"] = "mistral" };
        Assert.Equal("mistral", ModelCatalog.IdFor("/models/mistral-7b-instruct-v0.3.Q4_K_M.gguf", aliases));
        Assert.Equal("other", ModelCatalog.IdFor("/models/other.gguf", aliases));
    }

    [Fact]
    public void Two_files_with_the_same_id_are_not_both_served()
    {
        Directory.CreateDirectory(_dir.File("a"));
        File.WriteAllBytes(_dir.File("a/m.gguf"), [0]);
        File.WriteAllBytes(_dir.File("m.gguf"), [0]);
        var entries = ModelCatalog.Discover(new EngineOptions { ModelsDir = _dir.Path, Model = [_dir.File("a/m.gguf")] });
        Assert.Equal(2, entries.Count);
        Assert.Equal(ModelState.Failed, entries[1].State);
        Assert.Contains("already used", entries[1].Error, StringComparison.Ordinal);
    }
}
