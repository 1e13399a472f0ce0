using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class MalformedGgufTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-malformed-").FullName;

    public static TheoryData<string> CaseNames => [.. MalformedGgufCorpus.Names];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_unmutated_base_file_is_valid()
    {
        var file = GgufReader.Read(new MemoryStream(MalformedGgufCorpus.Valid()), "base");
        Assert.Equal(2, file.Tensors.Count);
        Assert.Equal("llama", file.GetString("general.architecture"));
    }

    [Fact]
    public void Corpus_has_at_least_twenty_cases() => Assert.True(MalformedGgufCorpus.Names.Count() >= 20);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_file_is_rejected_with_specific_error(string caseName)
    {
        var c = MalformedGgufCorpus.Get(caseName);
        var path = Path.Combine(_dir, caseName + ".gguf");
        File.WriteAllBytes(path, c.Build());

        var ex = Assert.Throws<GgufFormatException>(() => GgufReader.Read(path));

        Assert.Equal(c.Expected, ex.Error);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.FileName);
        Assert.False(string.IsNullOrWhiteSpace(ex.Reason));
    }

    [Fact]
    public void Every_truncation_of_a_generated_model_is_rejected_cleanly()
    {
        var bytes = File.ReadAllBytes(TestModels.Tiny().Path);
        var header = GgufReader.Read(new MemoryStream(bytes), "full");
        GgufError[] allowed = [GgufError.Truncated, GgufError.CountTooLarge, GgufError.StringTooLong, GgufError.ArrayTooLong, GgufError.TensorOutOfBounds];
        var cuts = Enumerable.Range(0, 64)
            .Concat(Enumerable.Range(0, (int)(header.DataOffset / 53)).Select(i => i * 53))
            .Concat([(int)header.DataOffset - 1, (int)header.DataOffset, (int)header.DataOffset + 1, bytes.Length / 2, bytes.Length - 1])
            .Distinct();
        foreach (var cut in cuts)
        {
            var ex = Assert.Throws<GgufFormatException>(() => GgufReader.Read(new MemoryStream(bytes, 0, cut), $"cut-{cut}"));
            Assert.Contains(ex.Error, allowed);
            Assert.Contains($"cut-{cut}", ex.Message, StringComparison.Ordinal);
            if (cut >= header.DataOffset)
            {
                Assert.Equal(GgufError.TensorOutOfBounds, ex.Error);
            }
        }
    }

    [Fact]
    public void Reader_limits_apply_before_allocation()
    {
        var bytes = new RawGgufBuilder { KeyValues = { w => w.String("k").U32(9).U32(0).U64(100).Bytes(new byte[100]) } }.Build();
        var ex = Assert.Throws<GgufFormatException>(() =>
            GgufReader.Read(new MemoryStream(bytes), "limited", new GgufReaderOptions { MaxArrayLength = 99 }));
        Assert.Equal(GgufError.ArrayTooLong, ex.Error);
        Assert.Equal(100, GgufReader.Read(new MemoryStream(bytes), "unlimited").Get("k")!.ArrayLength);
    }
}
