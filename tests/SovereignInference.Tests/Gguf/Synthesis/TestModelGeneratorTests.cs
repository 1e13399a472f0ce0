using System.Security.Cryptography;
using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class TestModelGeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-gen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Vocabulary_has_specials_controls_bytes_then_pieces()
    {
        var v = VocabularyBuilder.Build(["▁Paris"]);
        Assert.Equal(["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"],
            v.Tokens.Take(10).Select(t => t.Text));
        Assert.Equal(TokenType.Unknown, v.Tokens[0].Type);
        Assert.All(v.Tokens.Skip(1).Take(9), t => Assert.Equal(TokenType.Control, t.Type));
        Assert.Equal(10, v.IdOf("<0x00>"));
        Assert.Equal(10 + 0x0A, v.IdOf("<0x0A>"));
        Assert.Equal(265, v.IdOf("<0xFF>"));
        Assert.All(v.Tokens.Skip(10).Take(256), t => Assert.Equal(TokenType.Byte, t.Type));
        Assert.All(v.Tokens.Skip(266), t => Assert.Equal(TokenType.Normal, t.Type));
        Assert.Equal("▁", v[266]);
        foreach (var prefix in new[] { "▁H", "▁He", "▁Hel", "▁Hell", "▁Hello", "▁P", "▁Pa", "▁Par", "▁Pari", "▁Paris", "a", "~" })
        {
            Assert.True(v.Contains(prefix), prefix);
        }

        Assert.True(v.Tokens[v.IdOf("▁Hello")].Score > v.Tokens[v.IdOf("▁Hel")].Score);
        Assert.Equal(v.Count, v.Tokens.Select(t => t.Text).Distinct().Count());
        Assert.Equal(" Hello€!", v.Detokenize([v.IdOf("<s>"), v.IdOf("▁Hello"), v.IdOf("<0xE2>"), v.IdOf("<0x82>"), v.IdOf("<0xAC>"), v.IdOf("!"), v.IdOf("</s>")]));
    }

    [Fact]
    public void Random_generation_is_deterministic_per_seed()
    {
        string Hash(string p) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)));
        var a = TestModelGenerator.WriteRandom(Path.Combine(_dir, "a.gguf"));
        var b = TestModelGenerator.WriteRandom(Path.Combine(_dir, "b.gguf"));
        var c = TestModelGenerator.WriteRandom(Path.Combine(_dir, "c.gguf"), RandomModelSpec.Tiny with { Shape = ModelShape.Tiny with { Seed = 43 } });
        Assert.Equal(Hash(a.Path), Hash(b.Path));
        Assert.NotEqual(Hash(a.Path), Hash(c.Path));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public void Generated_llama_file_has_the_tensors_llama_cpp_expects(GgmlType type)
    {
        var model = TestModels.Tiny(type);
        var f = GgufReader.Read(model.Path);
        long e = 128, kv = 64, ff = 256, n = model.Vocabulary.Count;
        void Expect(string name, GgmlType t, params long[] dims)
        {
            var info = f.TensorsByName[name];
            Assert.Equal(dims, info.Dimensions);
            Assert.Equal(t, info.Type);
        }

        Expect("token_embd.weight", type, e, n);
        Expect("output_norm.weight", GgmlType.F32, e);
        Expect("output.weight", type, e, n);
        for (var i = 0; i < 2; i++)
        {
            Expect($"blk.{i}.attn_norm.weight", GgmlType.F32, e);
            Expect($"blk.{i}.attn_q.weight", type, e, e);
            Expect($"blk.{i}.attn_k.weight", type, e, kv);
            Expect($"blk.{i}.attn_v.weight", type, e, kv);
            Expect($"blk.{i}.attn_output.weight", type, e, e);
            Expect($"blk.{i}.ffn_norm.weight", GgmlType.F32, e);
            Expect($"blk.{i}.ffn_gate.weight", type, e, ff);
            Expect($"blk.{i}.ffn_up.weight", type, e, ff);
            Expect($"blk.{i}.ffn_down.weight", type, ff, e);
        }

        Assert.Equal(21, f.Tensors.Count);
        Assert.Equal(32, f.GetInt64("llama.rope.dimension_count"));
        Assert.Equal(GgufValueType.UInt32, f.Metadata["llama.context_length"].Type);
        Assert.Equal(GgufValueType.Float32, f.Metadata["llama.attention.layer_norm_rms_epsilon"].Type);
        Assert.Equal(n, f.GetInt64("llama.vocab_size"));
        Assert.Equal(GgufValueType.Int32, f.Metadata["tokenizer.ggml.token_type"].ElementType);
        Assert.Equal(GgufValueType.Float32, f.Metadata["tokenizer.ggml.scores"].ElementType);
        Assert.True(f.Metadata["tokenizer.ggml.add_bos_token"].AsBool());
        Assert.False(f.Metadata["tokenizer.ggml.add_eos_token"].AsBool());
        Assert.Equal(model.Vocabulary.Tokens.Select(t => t.Text), f.Metadata["tokenizer.ggml.tokens"].AsArray<string>());
    }

    [Fact]
    public void Random_weights_are_bounded_and_norms_are_one()
    {
        var model = TestModels.Tiny(GgmlType.F32);
        var f = GgufReader.Read(model.Path);
        Assert.All(GgufTestFiles.ReadTensorFloats(model.Path, f, "blk.0.attn_norm.weight"), v => Assert.Equal(1f, v));
        var q = GgufTestFiles.ReadTensorFloats(model.Path, f, "blk.1.attn_q.weight");
        var bound = MathF.Sqrt(3f / 128f);
        Assert.All(q, v => Assert.InRange(v, -bound, bound));
        Assert.True(q.Distinct().Count() > q.Length / 2);
    }

    [Fact]
    public void Text_only_output_zeroes_the_output_rows_of_byte_control_and_unknown_tokens_and_nothing_else()
    {
        var plain = TestModelGenerator.WriteRandom(Path.Combine(_dir, "plain.gguf"), RandomModelSpec.Tiny with { Shape = ModelShape.Tiny with { TensorType = GgmlType.F32 } });
        var text = TestModelGenerator.WriteRandom(Path.Combine(_dir, "text.gguf"), RandomModelSpec.Tiny with { Shape = ModelShape.Tiny with { TensorType = GgmlType.F32 }, TextOnlyOutput = true });
        var e = plain.Shape.EmbeddingLength;
        var plainOut = GgufTestFiles.ReadTensorFloats(plain.Path, GgufReader.Read(plain.Path), "output.weight");
        var textOut = GgufTestFiles.ReadTensorFloats(text.Path, GgufReader.Read(text.Path), "output.weight");
        var silenced = 0;
        foreach (var token in text.Vocabulary.Tokens)
        {
            var row = textOut.AsSpan(token.Id * e, e);
            if (token.Type is TokenType.Byte or TokenType.Control or TokenType.Unknown)
            {
                Assert.All(row.ToArray(), v => Assert.Equal(0f, v));
                silenced++;
            }
            else
            {
                Assert.True(row.SequenceEqual(plainOut.AsSpan(token.Id * e, e)), $"row {token.Id} ({token.Text}) changed");
            }
        }

        Assert.True(silenced >= 256 + 3, $"only {silenced} rows silenced");
        Assert.False(plainOut.AsSpan(0, e).SequenceEqual(new float[e]));
        Assert.Equal(
            GgufTestFiles.ReadTensorFloats(plain.Path, GgufReader.Read(plain.Path), "token_embd.weight"),
            GgufTestFiles.ReadTensorFloats(text.Path, GgufReader.Read(text.Path), "token_embd.weight"));
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public void Scripted_weights_encode_the_transitions(GgmlType type)
    {
        var spec = new ScriptedModelSpec
        {
            TensorType = type,
            Transitions = [.. ScriptedModelSpec.Chain("[/INST]", "▁Paris", "<0xE2>", "▁Paris"), new("▁world", "</s>")],
            DefaultNext = "!",
        };
        var model = TestModels.Scripted(spec);
        var v = model.Vocabulary;
        var f = GgufReader.Read(model.Path);
        var e = (int)f.GetInt64("llama.embedding_length")!.Value;
        Assert.True(e >= v.Count);
        Assert.Equal(0, e % 64);

        var embd = GgufTestFiles.ReadTensorFloats(model.Path, f, "token_embd.weight");
        var output = GgufTestFiles.ReadTensorFloats(model.Path, f, "output.weight");
        Assert.All(GgufTestFiles.ReadTensorFloats(model.Path, f, "blk.0.attn_output.weight"), x => Assert.Equal(0f, x));
        Assert.All(GgufTestFiles.ReadTensorFloats(model.Path, f, "blk.0.ffn_down.weight"), x => Assert.Equal(0f, x));
        for (var t = 0; t < v.Count; t++)
        {
            // one-hot embedding
            Assert.Equal(t, Array.IndexOf(embd, embd.Skip(t * e).Take(e).Max(), t * e) - (t * e));
            // argmax over vocab rows of column t == scripted next token
            var best = Enumerable.Range(0, v.Count).MaxBy(j => output[(j * e) + t]);
            Assert.Equal(model.ExpectedContinuation(v[t], 1)[0], v[best]);
        }

        Assert.Equal(["▁Paris", "<0xE2>", "▁Paris", "<0xE2>"], model.ExpectedContinuation("[/INST]", 4));
        Assert.Equal(["</s>"], model.ExpectedContinuation("▁world"));
        Assert.Equal(["!", "!"], model.ExpectedContinuation("▁the", 2));
    }

    [Fact]
    public void Scripted_spec_rejects_two_rules_for_one_token() =>
        Assert.Throws<ArgumentException>(() => TestModelGenerator.WriteScripted(Path.Combine(_dir, "bad.gguf"), new ScriptedModelSpec
        {
            Transitions = [new("▁a", "▁b"), new("▁a", "▁c")],
        }));

    [Fact]
    public void Demo_model_answers_a_mistral_prompt_with_a_sentence()
    {
        var demo = TestModels.Demo();
        var reply = demo.ExpectedContinuation("[/INST]");
        Assert.Equal("</s>", reply[^1]);
        Assert.Equal(" " + TestModelGenerator.DemoReply, demo.Vocabulary.Detokenize(reply.Select(demo.Vocabulary.IdOf)));
        var info = GgufModelInfo.Read(demo.Path);
        Assert.Equal("sovereign-demo", info.Name);
        Assert.True(info.HasChatTemplate);
    }

    [Fact]
    public void Chat_template_can_be_overridden_or_omitted()
    {
        var none = TestModelGenerator.WriteScripted(Path.Combine(_dir, "none.gguf"), new ScriptedModelSpec { ChatTemplate = null });
        Assert.False(GgufModelInfo.Read(none.Path).HasChatTemplate);
        var custom = TestModelGenerator.WriteRandom(Path.Combine(_dir, "custom.gguf"), RandomModelSpec.Tiny with { ChatTemplate = "{{ messages }}" });
        Assert.Equal("{{ messages }}", GgufModelInfo.Read(custom.Path).ChatTemplate);
    }

    [Fact]
    public void Presets_are_named_and_unknown_presets_fail()
    {
        Assert.Equal(["tiny", "bench100m", "demo", "tools"], TestModelGenerator.Presets);
        Assert.Throws<ArgumentException>(() => TestModelGenerator.WritePreset(Path.Combine(_dir, "x.gguf"), "huge"));
        var q8Demo = TestModelGenerator.WritePreset(Path.Combine(_dir, "demo-q8.gguf"), "demo", GgmlType.Q8_0);
        Assert.Equal("Q8_0", GgufModelInfo.Read(q8Demo.Path).Quantization);
    }

    [Fact]
    public void Bench100m_shape_has_about_100m_parameters()
    {
        var s = ModelShape.Bench100M;
        var vocab = VocabularyBuilder.Build([]).Count;
        long e = s.EmbeddingLength, ff = s.FeedForwardLength;
        var parameters = (2 * e * vocab) + e + (s.Layers * ((2 * e) + (4 * e * e) + (3 * e * ff)));
        Assert.InRange(parameters, 95_000_000, 105_000_000);
    }

    [Fact]
    public void Test_models_are_cached_and_valid()
    {
        var a = TestModels.Tiny();
        var b = TestModels.Tiny();
        Assert.Equal(a.Path, b.Path);
        Assert.StartsWith(TestModels.CacheDirectory, a.Path, StringComparison.Ordinal);
        Assert.True(File.Exists(a.Path));
        Assert.NotEqual(a.Path, TestModels.Tiny(GgmlType.Q8_0).Path);
        Assert.Equal(a.Vocabulary.Count, GgufReader.Read(a.Path).Get("tokenizer.ggml.tokens")!.ArrayLength);
    }
}
