using System.Security.Cryptography;
using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class GgufModelInfoTests
{
    private static long ExpectedParameters(ModelShape s, int vocab)
    {
        long e = s.EmbeddingLength, kv = s.EmbeddingLengthKv, ff = s.FeedForwardLength;
        var perLayer = e + (e * e) + (2 * e * kv) + (e * e) + e + (3 * e * ff);
        return (2 * e * vocab) + e + (s.Layers * perLayer);
    }

    [Fact]
    public void Tiny_model_info_reports_every_field()
    {
        var model = TestModels.Tiny();
        var info = GgufModelInfo.From(GgufReader.Read(model.Path), model.Path, computeSha256: true);

        Assert.Equal("llama", info.Architecture);
        Assert.Equal("sovereign-tiny", info.Name);
        Assert.Equal(3u, info.Version);
        Assert.Equal(ExpectedParameters(model.Shape, model.Vocabulary.Count), info.ParameterCount);
        Assert.Equal(3 + (9 * 2), info.TensorCount);
        Assert.Equal("F16", info.Quantization);
        Assert.Equal(LlamaFileType.MostlyF16, info.FileType);
        Assert.Equal(4096, info.ContextLength);
        Assert.Equal(128, info.EmbeddingLength);
        Assert.Equal(2, info.BlockCount);
        Assert.Equal(4, info.HeadCount);
        Assert.Equal(2, info.HeadCountKv);
        Assert.Equal(256, info.FeedForwardLength);
        Assert.Equal(64, info.EmbeddingLengthKv);
        Assert.Equal(model.Vocabulary.Count, info.VocabSize);
        Assert.Equal("llama", info.VocabType);
        Assert.Equal(1, info.BosTokenId);
        Assert.Equal(2, info.EosTokenId);
        Assert.True(info.HasChatTemplate);
        Assert.Equal(MistralChatTemplate.Text, info.ChatTemplate);
        Assert.Equal(new FileInfo(model.Path).Length, info.FileSize);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model.Path))), info.Sha256);

        var norms = (1 + (2 * 2)) * 128L * 4;
        Assert.Equal(norms + ((info.ParameterCount - (norms / 4)) * 2), info.WeightBytes);
    }

    [Fact]
    public void Kv_cache_estimate_uses_layers_kv_width_and_cache_type()
    {
        var info = GgufModelInfo.Read(TestModels.Tiny().Path);
        // 2 (K,V) * 2 layers * n_embd_kv 64 * bytes/element
        Assert.Equal(2 * 2 * 64 * 2, info.KvCacheBytesPerToken("f16"));
        Assert.Equal(2 * 2 * 64 * 34 / 32, info.KvCacheBytesPerToken("q8_0"));
        Assert.Equal(2 * 2 * 64 * 18 / 32, info.KvCacheBytesPerToken("Q4_0"));
        Assert.Throws<ArgumentException>(() => info.KvCacheBytesPerToken("q3_k"));
    }

    [Theory]
    [InlineData(GgmlType.F32, "F32")]
    [InlineData(GgmlType.F16, "F16")]
    [InlineData(GgmlType.Q8_0, "Q8_0")]
    public void Quantization_comes_from_file_type(GgmlType type, string expected) =>
        Assert.Equal(expected, GgufModelInfo.Read(TestModels.Tiny(type).Path).Quantization);

    [Fact]
    public void Quantization_falls_back_to_dominant_tensor_type_and_known_names_map()
    {
        using var ms = new MemoryStream();
        using (var w = new GgufWriter(ms, leaveOpen: true))
        {
            w.AddTensor("norm", [32], GgmlType.F32).AddTensor("big", [64, 4], GgmlType.Q8_0);
            w.WriteHeader();
            w.WriteTensorValues(new float[32]);
            w.WriteTensorValues(new float[256]);
            w.Complete();
        }

        var info = GgufModelInfo.From(GgufReader.Read(ms, "nofiletype"), "nofiletype", computeSha256: false);
        Assert.Equal("Q8_0", info.Quantization);
        Assert.Equal("unknown", info.Architecture);
        Assert.Null(info.Sha256);
        Assert.False(info.HasChatTemplate);
        Assert.Equal("Q4_K_M", LlamaFileType.GetName(15));
        Assert.Equal("Q5_K_S", LlamaFileType.GetName(16));
        Assert.Equal("BF16", LlamaFileType.GetName(32));
        Assert.Null(LlamaFileType.GetName(4));
    }

    [Fact]
    public void Describe_prints_the_inspect_summary()
    {
        var model = TestModels.Tiny();
        var text = GgufModelInfo.Read(model.Path, computeSha256: true).Describe();
        Assert.Contains("Architecture:    llama", text, StringComparison.Ordinal);
        Assert.Contains($"Parameters:      {GgufModelInfoFormatter.FormatCount(ExpectedParameters(model.Shape, model.Vocabulary.Count))}", text, StringComparison.Ordinal);
        Assert.Contains("Quantization:    F16", text, StringComparison.Ordinal);
        Assert.Contains("Context length:  4096", text, StringComparison.Ordinal);
        Assert.Contains($"Vocabulary:      {model.Vocabulary.Count} tokens (llama)", text, StringComparison.Ordinal);
        Assert.Contains("Chat template:   yes", text, StringComparison.Ordinal);
        Assert.Contains("Size:            ", text, StringComparison.Ordinal);
        Assert.Matches("SHA-256: +[0-9a-f]{64}", text);
    }

    [Theory]
    [InlineData(950, "950")]
    [InlineData(101_234_567, "101.2M")]
    [InlineData(7_241_732_096, "7.2B")]
    [InlineData(423_808, "423.8K")]
    public void Parameter_counts_are_humanised(long n, string expected) =>
        Assert.Equal(expected, GgufModelInfoFormatter.FormatCount(n));

    [Fact]
    public void Byte_sizes_use_binary_units()
    {
        Assert.Equal("512 B", GgufModelInfoFormatter.FormatBytes(512));
        Assert.Equal("1.5 KiB", GgufModelInfoFormatter.FormatBytes(1536));
        Assert.Equal("190.6 MiB", GgufModelInfoFormatter.FormatBytes(199_818_880));
    }
}
