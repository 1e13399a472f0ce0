using System.Buffers.Binary;
using System.Text;
using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

/// <summary>Named malformed GGUF files, each with the error the reader must report.</summary>
internal static class MalformedGgufCorpus
{
    public sealed record Case(Func<byte[]> Build, GgufError Expected);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["empty-file"] = new(() => [], GgufError.Truncated),
        ["truncated-in-magic"] = new(() => Valid()[..3], GgufError.Truncated),
        ["truncated-in-version"] = new(() => Valid()[..6], GgufError.Truncated),
        ["truncated-in-tensor-count"] = new(() => Valid()[..12], GgufError.Truncated),
        ["truncated-in-kv-count"] = new(() => Valid()[..20], GgufError.Truncated),
        ["truncated-in-value-type"] = new(() => With(b => b.Tensors.Clear())[..(24 + 8 + 20 + 2)], GgufError.Truncated),
        ["truncated-in-tensor-data"] = new(() => Valid()[..^1], GgufError.TensorOutOfBounds),
        ["truncated-after-header"] = new(() => { var v = Valid(); return v[..(v.Length - 96)]; }, GgufError.TensorOutOfBounds),
        ["bad-magic"] = new(() => With(b => b.Magic = "GGUX"u8.ToArray()), GgufError.BadMagic),
        ["ggml-magic"] = new(() => With(b => b.Magic = "ggml"u8.ToArray()), GgufError.BadMagic),
        ["version-1"] = new(() => With(b => b.Version = 1), GgufError.UnsupportedVersion),
        ["version-99"] = new(() => With(b => b.Version = 99), GgufError.UnsupportedVersion),
        ["version-big-endian-3"] = new(() => With(b => b.Version = 0x03000000), GgufError.UnsupportedVersion),
        ["huge-tensor-count"] = new(() => With(b => b.TensorCountOverride = 1UL << 62), GgufError.CountTooLarge),
        ["tensor-count-exceeds-file"] = new(() => With(b => b.TensorCountOverride = 100), GgufError.CountTooLarge),
        ["huge-kv-count"] = new(() => With(b => b.KvCountOverride = ulong.MaxValue), GgufError.CountTooLarge),
        ["kv-count-exceeds-file"] = new(() => With(b => b.KvCountOverride = 50), GgufError.CountTooLarge),
        ["huge-key-length"] = new(() => WithKv(w => w.U64(1UL << 40)), GgufError.StringTooLong),
        ["huge-string-value-length"] = new(() => WithKv(w => w.String("k").U32(8).U64(ulong.MaxValue)), GgufError.StringTooLong),
        ["string-value-longer-than-file"] = new(() => WithKv(w => w.String("k").U32(8).U64(5000)), GgufError.StringTooLong),
        ["huge-array-length"] = new(() => WithKv(w => w.String("k").U32(9).U32(6).U64(1UL << 60)), GgufError.ArrayTooLong),
        ["huge-string-array-length"] = new(() => WithKv(w => w.String("k").U32(9).U32(8).U64(1UL << 33)), GgufError.ArrayTooLong),
        ["string-in-array-too-long"] = new(() => WithKv(w => w.String("k").U32(9).U32(8).U64(1).U64(1UL << 50)), GgufError.StringTooLong),
        ["invalid-value-type"] = new(() => WithKv(w => w.String("k").U32(13).U32(0)), GgufError.InvalidValueType),
        ["invalid-value-type-huge"] = new(() => WithKv(w => w.String("k").U32(0xFFFFFFFF).U32(0)), GgufError.InvalidValueType),
        ["invalid-array-element-type"] = new(() => WithKv(w => w.String("k").U32(9).U32(42).U64(1).U32(0)), GgufError.InvalidValueType),
        ["nested-array"] = new(() => WithKv(w => w.String("k").U32(9).U32(9).U64(1).U32(4).U64(1).U32(7)), GgufError.NestedArray),
        ["bool-value-not-0-or-1"] = new(() => WithKv(w => w.String("k").U32(7).U8(2)), GgufError.InvalidValue),
        ["bool-array-element-not-0-or-1"] = new(() => WithKv(w => w.String("k").U32(9).U32(7).U64(3).U8(1).U8(0).U8(7)), GgufError.InvalidValue),
        ["empty-key"] = new(() => WithKv(w => w.String("").U32(4).U32(1)), GgufError.InvalidName),
        ["key-not-utf8"] = new(() => WithKv(w => w.StringBytes([0x6B, 0xFF, 0xFE]).U32(4).U32(1)), GgufError.InvalidName),
        ["duplicate-key"] = new(() => WithKv(w => w.String("general.architecture").U32(8).String("gpt2")), GgufError.DuplicateKey),
        ["alignment-not-power-of-two"] = new(() => WithKv(w => w.String("general.alignment").U32(4).U32(48)), GgufError.BadAlignment),
        ["alignment-zero"] = new(() => WithKv(w => w.String("general.alignment").U32(4).U32(0)), GgufError.BadAlignment),
        ["alignment-wrong-type"] = new(() => WithKv(w => w.String("general.alignment").U32(10).U64(32)), GgufError.BadAlignment),
        ["tokens-not-strings"] = new(() => WithKv(w => w.String("tokenizer.ggml.tokens").U32(9).U32(5).U64(2).U32(1).U32(2)), GgufError.InvalidMetadata),
        ["scores-shorter-than-tokens"] = new(() => WithKvs(
            w => w.String("tokenizer.ggml.tokens").U32(9).U32(8).U64(2).String("a").String("b"),
            w => w.String("tokenizer.ggml.scores").U32(9).U32(6).U64(1).U32(0)), GgufError.InvalidMetadata),
        ["token-types-wrong-element-type"] = new(() => WithKv(w => w.String("tokenizer.ggml.token_type").U32(9).U32(0).U64(1).U8(1)), GgufError.InvalidMetadata),
        ["chat-template-not-string"] = new(() => WithKv(w => w.String("tokenizer.chat_template").U32(4).U32(1)), GgufError.InvalidMetadata),
        ["n-dims-0"] = new(() => WithTensor(new("c", [], 0, 96)), GgufError.InvalidTensorDims),
        ["n-dims-5"] = new(() => WithTensor(new("c", [1, 1, 1, 1, 8], 0, 96)), GgufError.InvalidTensorDims),
        ["zero-dim"] = new(() => WithTensor(new("c", [8, 0], 0, 96)), GgufError.InvalidTensorDims),
        ["negative-dim"] = new(() => WithTensor(new("c", [8, unchecked((ulong)-1L)], 0, 96)), GgufError.InvalidTensorDims),
        ["dim-product-overflow"] = new(() => WithTensor(new("c", [1UL << 32, 1UL << 32], 0, 96)), GgufError.InvalidTensorDims),
        ["byte-size-overflow"] = new(() => WithTensor(new("c", [1UL << 31, 1UL << 31], 0, 96)), GgufError.InvalidTensorDims),
        ["unknown-ggml-type"] = new(() => WithTensor(new("c", [8], 99, 96)), GgufError.UnknownTensorType),
        ["removed-ggml-type-q4_2"] = new(() => WithTensor(new("c", [32], 4, 96)), GgufError.UnknownTensorType),
        ["first-dim-not-multiple-of-block"] = new(() => WithTensor(new("c", [16, 2], (uint)GgmlType.Q8_0, 96)), GgufError.TensorShapeNotBlockAligned),
        ["first-dim-not-multiple-of-k-block"] = new(() => WithTensor(new("c", [128], (uint)GgmlType.Q4_K, 96)), GgufError.TensorShapeNotBlockAligned),
        ["misaligned-offset"] = new(() => WithTensor(new("c", [8], 0, 100)), GgufError.MisalignedTensor),
        ["tensor-offset-past-eof"] = new(() => WithTensor(new("c", [8], 0, 1UL << 20)), GgufError.TensorOutOfBounds),
        ["tensor-offset-huge"] = new(() => WithTensor(new("c", [8], 0, ulong.MaxValue - 31)), GgufError.TensorOutOfBounds),
        ["tensor-size-past-eof"] = new(() => WithTensor(new("c", [1UL << 20], 0, 96)), GgufError.TensorOutOfBounds),
        ["duplicate-tensor-name"] = new(() => WithTensor(new("a", [8], 0, 96)), GgufError.DuplicateTensor),
        ["empty-tensor-name"] = new(() => WithTensor(new("", [8], 0, 96)), GgufError.InvalidName),
        ["tensor-name-64-bytes"] = new(() => WithTensor(new(new string('x', 64), [8], 0, 96)), GgufError.InvalidName),
        ["overlapping-tensors"] = new(() => With(b => b.Tensors[1] = b.Tensors[1] with { Offset = 0 }), GgufError.TensorOverlap),
        ["partially-overlapping-tensors"] = new(() => WithTensor(new("c", [16], 0, 64), dataBytes: 160), GgufError.TensorOverlap),
        ["generated-model-type-patched"] = new(() => PatchGenerated("output_norm.weight", typeDelta: 99), GgufError.UnknownTensorType),
        ["generated-model-offset-patched"] = new(() => PatchGenerated("output_norm.weight", offsetDelta: 8), GgufError.MisalignedTensor),
        ["generated-model-dims-patched"] = new(() => PatchGenerated("token_embd.weight", dim1: 1UL << 40), GgufError.TensorOutOfBounds),
    };

    public static IEnumerable<string> Names => Cases.Keys;

    public static Case Get(string name) => Cases[name];

    public static byte[] Valid() => RawGgufBuilder.Valid().Build();

    private static byte[] With(Action<RawGgufBuilder> mutate)
    {
        var b = RawGgufBuilder.Valid();
        mutate(b);
        return b.Build();
    }

    private static byte[] WithKv(Action<RawGgufBuilder> kv) => With(b => b.KeyValues.Add(kv));

    private static byte[] WithKvs(params Action<RawGgufBuilder>[] kvs) => With(b => b.KeyValues.AddRange(kvs));

    private static byte[] WithTensor(RawTensor tensor, long dataBytes = 128) => With(b =>
    {
        b.Tensors.Add(tensor);
        b.DataBytes = dataBytes;
    });

    /// <summary>Patches one tensor info inside a real generated model file.</summary>
    private static byte[] PatchGenerated(string tensor, uint typeDelta = 0, ulong offsetDelta = 0, ulong? dim1 = null)
    {
        var bytes = File.ReadAllBytes(TestModels.Tiny(GgmlType.F16).Path);
        var name = Encoding.UTF8.GetBytes(tensor);
        Span<byte> needle = stackalloc byte[8 + name.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(needle, (ulong)name.Length);
        name.CopyTo(needle[8..]);
        var at = bytes.AsSpan().IndexOf(needle);
        if (at < 0)
        {
            throw new InvalidOperationException($"Tensor info '{tensor}' not found.");
        }

        var p = at + needle.Length;
        var nDims = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(p));
        if (dim1 is { } d)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(p + 4 + 8), d);
        }

        var typeAt = p + 4 + (8 * nDims);
        var type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(typeAt));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeAt), type + typeDelta);
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(typeAt + 4));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(typeAt + 4), offset + offsetDelta);
        return bytes;
    }
}
