using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Ramp(int n, float scale = 0.01f) => [.. Enumerable.Range(0, n).Select(i => (i - (n / 2)) * scale)];

    [Fact]
    public void Metadata_of_every_type_round_trips()
    {
        var path = Path.Combine(_dir, "meta.gguf");
        using (var w = GgufWriter.Create(path))
        {
            w.AddMetadata("u8", GgufValue.FromUInt8(200))
                .AddMetadata("i8", GgufValue.FromInt8(-100))
                .AddMetadata("u16", GgufValue.FromUInt16(60000))
                .AddMetadata("i16", GgufValue.FromInt16(-30000))
                .AddMetadata("u32", GgufValue.FromUInt32(4_000_000_000))
                .AddMetadata("i32", GgufValue.FromInt32(-2_000_000_000))
                .AddMetadata("u64", GgufValue.FromUInt64(ulong.MaxValue))
                .AddMetadata("i64", GgufValue.FromInt64(long.MinValue))
                .AddMetadata("f32", GgufValue.FromFloat32(3.25f))
                .AddMetadata("f64", GgufValue.FromFloat64(Math.PI))
                .AddMetadata("bool", GgufValue.FromBool(true))
                .AddMetadata("str", GgufValue.FromString("héllo ▁wörld\n"))
                .AddMetadata("empty", GgufValue.FromString(""))
                .AddMetadata("strs", GgufValue.FromStringArray(["a", "", "▁b", "<0x0A>"]))
                .AddMetadata("floats", GgufValue.FromFloat32Array([1.5f, -2f, float.Epsilon]))
                .AddMetadata("ints", GgufValue.FromInt32Array([1, -2, int.MaxValue]))
                .AddMetadata("bytes", GgufValue.FromUInt8Array([0, 255]))
                .AddMetadata("longs", GgufValue.FromInt64Array([long.MaxValue, -1]))
                .AddMetadata("doubles", GgufValue.FromFloat64Array([0.1]))
                .AddMetadata("bools", GgufValue.FromBoolArray([true, false]))
                .AddMetadata("empty-array", GgufValue.FromInt32Array([]));
            w.Complete();
        }

        var f = GgufReader.Read(path);
        Assert.Equal(3u, f.Version);
        Assert.Empty(f.Tensors);
        Assert.Equal(21, f.Metadata.Count);
        Assert.Equal("u8", f.MetadataInOrder[0].Key);
        Assert.Equal(200, f.GetInt64("u8"));
        Assert.Equal(-100, f.GetInt64("i8"));
        Assert.Equal(60000, f.GetInt64("u16"));
        Assert.Equal(-30000, f.GetInt64("i16"));
        Assert.Equal(4_000_000_000, f.GetInt64("u32"));
        Assert.Equal(GgufValueType.UInt32, f.Metadata["u32"].Type);
        Assert.Equal(-2_000_000_000, f.GetInt64("i32"));
        Assert.Equal(ulong.MaxValue, (ulong)f.Metadata["u64"].RawValue);
        Assert.Equal(long.MinValue, f.GetInt64("i64"));
        Assert.Equal(3.25, f.Metadata["f32"].AsDouble());
        Assert.Equal(GgufValueType.Float32, f.Metadata["f32"].Type);
        Assert.Equal(Math.PI, f.Metadata["f64"].AsDouble());
        Assert.True(f.Metadata["bool"].AsBool());
        Assert.Equal("héllo ▁wörld\n", f.GetString("str"));
        Assert.Equal("", f.GetString("empty"));
        Assert.Equal(["a", "", "▁b", "<0x0A>"], f.Metadata["strs"].AsArray<string>());
        Assert.Equal([1.5f, -2f, float.Epsilon], f.Metadata["floats"].AsArray<float>());
        Assert.Equal([1, -2, int.MaxValue], f.Metadata["ints"].AsArray<int>());
        Assert.Equal([(byte)0, (byte)255], f.Metadata["bytes"].AsArray<byte>());
        Assert.Equal([long.MaxValue, -1L], f.Metadata["longs"].AsArray<long>());
        Assert.Equal([0.1], f.Metadata["doubles"].AsArray<double>());
        Assert.Equal([true, false], f.Metadata["bools"].AsArray<bool>());
        Assert.Equal(0, f.Metadata["empty-array"].ArrayLength);
        Assert.Equal(GgufValueType.Int32, f.Metadata["empty-array"].ElementType);
    }

    [Fact]
    public void Tensors_round_trip_with_aligned_contiguous_offsets()
    {
        var path = Path.Combine(_dir, "tensors.gguf");
        var a = Ramp(8 * 3);
        var b = Ramp(64 * 2, 0.37f);
        var c = Ramp(32 * 4, 0.05f);
        var raw = Enumerable.Range(0, 144).Select(i => (byte)i).ToArray(); // one Q4_K block
        using (var w = GgufWriter.Create(path))
        {
            w.AddMetadata("general.architecture", GgufValue.FromString("test"));
            w.AddTensor("a.f32", [8, 3], GgmlType.F32)
                .AddTensor("b.f16", [64, 2], GgmlType.F16)
                .AddTensor("c.q8_0", [32, 2, 2], GgmlType.Q8_0)
                .AddTensor("d.q4_k", [256], GgmlType.Q4_K)
                .AddTensor("e.bf16", [5], GgmlType.BF16);
            w.WriteHeader();
            w.WriteTensorValues(a);
            w.WriteTensorValues(b.AsSpan(0, 64)); // chunked writes are allowed
            w.WriteTensorValues(b.AsSpan(64));
            w.WriteTensorValues(c);
            w.WriteTensorBytes(raw);
            w.WriteTensorValues([1f, -2f, 0.5f, 3f, 1e10f]);
            w.Complete();
        }

        var f = GgufReader.Read(path);
        Assert.Equal(32, f.Alignment);
        Assert.Equal(0, f.DataOffset % 32);
        Assert.Equal(new FileInfo(path).Length, f.FileSize);
        Assert.Equal(["a.f32", "b.f16", "c.q8_0", "d.q4_k", "e.bf16"], f.Tensors.Select(t => t.Name));
        Assert.Equal([32L, 2, 2], f.TensorsByName["c.q8_0"].Dimensions);
        Assert.Equal(GgmlType.Q4_K, f.TensorsByName["d.q4_k"].Type);
        long expectedOffset = 0;
        foreach (var t in f.Tensors)
        {
            Assert.Equal(expectedOffset, t.Offset);
            expectedOffset = (t.Offset + t.ByteSize + 31) / 32 * 32;
        }

        Assert.Equal(f.DataOffset + expectedOffset, f.FileSize);
        Assert.Equal(a, GgufTestFiles.ReadTensorFloats(path, f, "a.f32"));
        var bBack = GgufTestFiles.ReadTensorFloats(path, f, "b.f16");
        Assert.All(b.Zip(bBack), p => Assert.Equal((float)(Half)p.First, p.Second));
        var cBack = GgufTestFiles.ReadTensorFloats(path, f, "c.q8_0");
        Assert.All(c.Zip(cBack), p => Assert.True(Math.Abs(p.First - p.Second) <= 0.015f, $"{p.First} vs {p.Second}"));
        Assert.Equal(raw, GgufTestFiles.ReadTensorBytes(path, f, "d.q4_k"));
        var e = GgufTestFiles.ReadTensorBytes(path, f, "e.bf16");
        Assert.Equal(0x3F80, BitConverter.ToUInt16(e, 0)); // 1.0
        Assert.Equal(0xC000, BitConverter.ToUInt16(e, 2)); // -2.0
    }

    [Fact]
    public void Non_default_alignment_is_recorded_and_honoured()
    {
        using var ms = new MemoryStream();
        using (var w = new GgufWriter(ms, alignment: 64, leaveOpen: true))
        {
            w.AddTensor("x", [3], GgmlType.F32).AddTensor("y", [1], GgmlType.F32);
            w.WriteHeader();
            w.WriteTensorValues([1f, 2f, 3f]);
            w.WriteTensorValues([4f]);
            w.Complete();
        }

        var f = GgufReader.Read(ms, "aligned64");
        Assert.Equal(64, f.Alignment);
        Assert.Equal(GgufValueType.UInt32, f.Metadata[GgufReader.AlignmentKey].Type);
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal(64, f.TensorsByName["y"].Offset);
    }

    [Fact]
    public void Writer_rejects_invalid_declarations()
    {
        using var w = new GgufWriter(new MemoryStream());
        w.AddMetadata("k", GgufValue.FromBool(false));
        Assert.Throws<ArgumentException>(() => w.AddMetadata("k", GgufValue.FromBool(true)));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", [16], GgmlType.Q8_0));
        Assert.Throws<ArgumentException>(() => w.AddTensor("z", [0], GgmlType.F32));
        Assert.Throws<ArgumentException>(() => w.AddTensor("n", [1, 1, 1, 1, 1], GgmlType.F32));
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('n', 64), [1], GgmlType.F32));
        w.AddTensor("t", [2], GgmlType.F32);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [2], GgmlType.F32));
        Assert.Throws<InvalidOperationException>(() => w.WriteTensorValues([1f, 2f]));
        w.WriteHeader();
        Assert.Throws<ArgumentException>(() => w.WriteTensorValues([1f, 2f, 3f]));
        Assert.Throws<InvalidOperationException>(() => w.Complete());
    }

    [Fact]
    public void Type_traits_match_ggml_block_layouts()
    {
        (GgmlType Type, int Block, int Size)[] expected =
        [
            (GgmlType.F32, 1, 4), (GgmlType.F16, 1, 2), (GgmlType.Q4_0, 32, 18), (GgmlType.Q4_1, 32, 20),
            (GgmlType.Q5_0, 32, 22), (GgmlType.Q5_1, 32, 24), (GgmlType.Q8_0, 32, 34), (GgmlType.Q8_1, 32, 36),
            (GgmlType.Q2_K, 256, 84), (GgmlType.Q3_K, 256, 110), (GgmlType.Q4_K, 256, 144), (GgmlType.Q5_K, 256, 176),
            (GgmlType.Q6_K, 256, 210), (GgmlType.Q8_K, 256, 292), (GgmlType.IQ2_XXS, 256, 66), (GgmlType.IQ2_XS, 256, 74),
            (GgmlType.IQ3_XXS, 256, 98), (GgmlType.IQ1_S, 256, 50), (GgmlType.IQ4_NL, 32, 18), (GgmlType.IQ3_S, 256, 110),
            (GgmlType.IQ2_S, 256, 82), (GgmlType.IQ4_XS, 256, 136), (GgmlType.I8, 1, 1), (GgmlType.I16, 1, 2),
            (GgmlType.I32, 1, 4), (GgmlType.I64, 1, 8), (GgmlType.F64, 1, 8), (GgmlType.IQ1_M, 256, 56),
            (GgmlType.BF16, 1, 2), (GgmlType.TQ1_0, 256, 54), (GgmlType.TQ2_0, 256, 66), (GgmlType.MXFP4, 32, 17),
        ];
        foreach (var (type, block, size) in expected)
        {
            var t = GgmlTypeTraits.Get(type);
            Assert.Equal((block, size), (t.BlockSize, t.TypeSize));
        }

        Assert.Equal(expected.Length, GgmlTypeTraits.All.Count);
        Assert.False(GgmlTypeTraits.TryGet((GgmlType)4, out _));
        Assert.False(GgmlTypeTraits.TryGet((GgmlType)31, out _));
    }
}
