using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

/// <summary>
/// The model validator refuses every semantic corpus file with its specific error, while the structural reader accepts
/// them all (so it is the validator, not an unrelated structural problem, that stands between the file and llama.cpp).
/// </summary>
public sealed class SemanticGgufTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-semantic-").FullName;

    public static TheoryData<string> CaseNames => [.. SemanticGgufCorpus.Names];

    public static TheoryData<string> StructuralCaseNames => [.. MalformedGgufCorpus.Names];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_corpus_has_at_least_sixty_malformed_files_and_includes_the_issue_reproductions()
    {
        Assert.True(SemanticGgufCorpus.Names.Count() + MalformedGgufCorpus.Names.Count() >= 60);
        Assert.True(SemanticGgufCorpus.Names.Count() >= 40);
        foreach (var name in SemanticGgufCorpus.IssueReproductions)
        {
            Assert.Contains(name, SemanticGgufCorpus.Names);
        }
    }

    [Fact]
    public void The_unmutated_base_and_the_generated_models_pass_model_validation()
    {
        GgufModelValidator.Validate(GgufReader.Read(new MemoryStream(SemanticGgufCorpus.Base()), "base"));
        GgufModelValidator.Validate(GgufReader.Read(new MemoryStream(new GgufMutator(SemanticGgufCorpus.Base()).Build()), "rewritten base"));
        GgufReader.ReadModel(TestModels.Tiny(GgmlType.Q8_0).Path);
        GgufReader.ReadModel(TestModels.Demo().Path);
    }

    [Fact]
    public void Valid_variants_of_the_base_are_not_refused()
    {
        static void Accept(Func<GgufMutator, GgufMutator> mutate, string what)
        {
            var bytes = mutate(new GgufMutator(SemanticGgufCorpus.Base())).Build();
            var ex = Record.Exception(() => GgufModelValidator.Validate(GgufReader.Read(new MemoryStream(bytes), what)));
            Assert.True(ex is null, $"{what}: {ex?.Message}");
        }

        Accept(m => m.Set("llama.attention.head_count", GgufValue.FromInt32Array([4, 4])).Set("llama.attention.head_count_kv", GgufValue.FromUInt32Array([2, 2])), "per-layer heads");
        Accept(m => m.Set("llama.feed_forward_length", GgufValue.FromUInt32Array([256, 256])), "per-layer n_ff");
        Accept(m => m.Set("llama.attention.key_length", GgufValue.FromUInt32(32)).Set("llama.attention.value_length", GgufValue.FromUInt32(32)), "explicit key/value length");
        Accept(m => m.Set("llama.rope.scaling.type", GgufValue.FromString("yarn")).Set("llama.rope.scaling.factor", GgufValue.FromFloat32(4)), "yarn scaling");
        Accept(m => m.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat32(0)), "zero epsilon (ggml asserts only eps >= 0)");
        Accept(m => m.RemoveTensor("output.weight"), "tied output (token_embd reused)");
        Accept(m => m.Remove("llama.vocab_size").Remove("tokenizer.ggml.bos_token_id"), "no vocab_size, default bos id");
        Accept(m =>
        {
            for (var i = 0; i < m.Metadata.Count; i++)
            {
                if (m.Metadata[i].Key.StartsWith("llama.", StringComparison.Ordinal))
                {
                    m.Metadata[i] = new("mistral3." + m.Metadata[i].Key["llama.".Length..], m.Metadata[i].Value);
                }
            }

            return m.Set("general.architecture", GgufValue.FromString("mistral3"));
        }, "mistral3");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Semantic_case_is_structurally_valid_and_refused_by_the_model_validator(string caseName)
    {
        var c = SemanticGgufCorpus.Get(caseName);
        var path = Path.Combine(_dir, caseName + ".gguf");
        File.WriteAllBytes(path, SemanticGgufCorpus.Build(caseName));

        var file = GgufReader.Read(path);
        var ex = Assert.Throws<GgufFormatException>(() => GgufModelValidator.Validate(file));
        Assert.Equal(c.Expected, ex.Error);
        Assert.Contains(c.Mentions, ex.Reason, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);

        var viaReader = Assert.Throws<GgufFormatException>(() => GgufReader.ReadModel(path));
        Assert.Equal(c.Expected, viaReader.Error);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Semantic_case_differs_from_the_base_in_one_key_or_tensor(string caseName)
    {
        var baseFile = GgufReader.Read(new MemoryStream(SemanticGgufCorpus.Base()), "base");
        var mutated = GgufReader.Read(new MemoryStream(SemanticGgufCorpus.Build(caseName)), caseName);

        var changedKeys = baseFile.Metadata.Keys.Union(mutated.Metadata.Keys)
            .Where(k => !(baseFile.Metadata.TryGetValue(k, out var a) && mutated.Metadata.TryGetValue(k, out var b) && a.Type == b.Type && a.ElementType == b.ElementType && a.ToString() == b.ToString() && SameArray(a, b)))
            .ToArray();
        var changedTensors = baseFile.TensorsByName.Keys.Union(mutated.TensorsByName.Keys)
            .Where(n => !(baseFile.TensorsByName.TryGetValue(n, out var a) && mutated.TensorsByName.TryGetValue(n, out var b) && a.Type == b.Type && a.Dimensions.SequenceEqual(b.Dimensions)))
            .ToArray();

        // One value changed (the token list cases edit the parallel arrays of one token; a few cases set two keys that only make sense together).
        Assert.True(changedKeys.Length + changedTensors.Length is >= 1 and <= 3, $"{caseName}: {string.Join(", ", changedKeys.Concat(changedTensors))}");
    }

    [Theory]
    [MemberData(nameof(StructuralCaseNames))]
    public void Structural_case_is_refused_by_ReadModel_with_the_same_error(string caseName)
    {
        var c = MalformedGgufCorpus.Get(caseName);
        var path = Path.Combine(_dir, caseName + ".gguf");
        File.WriteAllBytes(path, c.Build());

        var ex = Assert.Throws<GgufFormatException>(() => GgufReader.ReadModel(path));
        Assert.Equal(c.Expected, ex.Error);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_refused_by_the_model_validator()
    {
        var file = GgufReader.Read(new MemoryStream(MalformedGgufCorpus.Valid()), "base");
        var ex = Assert.Throws<GgufFormatException>(() => GgufModelValidator.Validate(file));
        Assert.Equal(GgufError.InvalidHyperparameter, ex.Error);
        Assert.Contains("llama.context_length", ex.Reason, StringComparison.Ordinal);
    }

    private static bool SameArray(GgufValue a, GgufValue b) =>
        a.RawValue is not Array x || (b.RawValue is Array y && x.Length == y.Length && x.Cast<object>().SequenceEqual(y.Cast<object>()));
}
