using System.Buffers.Binary;
using System.Text;

namespace SovereignInference.Tests.Gguf;

/// <summary>
/// Writes GGUF bytes field by field with no validation at all, so tests can produce exactly the malformed
/// structure they want. The default instance is a small valid file (one string KV, two F32 tensors).
/// </summary>
internal sealed class RawGgufBuilder
{
    public byte[] Magic { get; set; } = "GGUF"u8.ToArray();
    public uint Version { get; set; } = 3;
    public ulong? TensorCountOverride { get; set; }
    public ulong? KvCountOverride { get; set; }
    public int Alignment { get; set; } = 32;
    public List<Action<RawGgufBuilder>> KeyValues { get; } = [];
    public List<RawTensor> Tensors { get; } = [];

    /// <summary>Bytes of tensor data after the aligned header; null = the sum of the F32 tensor sizes.</summary>
    public long? DataBytes { get; set; }

    private readonly List<byte> _bytes = [];

    public static RawGgufBuilder Valid()
    {
        var b = new RawGgufBuilder();
        b.KeyValues.Add(w => w.String("general.architecture").U32(8).String("llama"));
        b.Tensors.Add(new RawTensor("a", [8], 0, 0));
        b.Tensors.Add(new RawTensor("b", [8, 2], 0, 32));
        return b;
    }

    public RawGgufBuilder U8(byte v) { _bytes.Add(v); return this; }

    public RawGgufBuilder U32(uint v)
    {
        Span<byte> s = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(s, v);
        _bytes.AddRange(s.ToArray());
        return this;
    }

    public RawGgufBuilder U64(ulong v)
    {
        Span<byte> s = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(s, v);
        _bytes.AddRange(s.ToArray());
        return this;
    }

    public RawGgufBuilder Bytes(ReadOnlySpan<byte> bytes) { _bytes.AddRange(bytes.ToArray()); return this; }

    public RawGgufBuilder String(string s) => StringBytes(Encoding.UTF8.GetBytes(s));

    public RawGgufBuilder StringBytes(byte[] utf8) { U64((ulong)utf8.Length); _bytes.AddRange(utf8); return this; }

    public byte[] Build()
    {
        _bytes.Clear();
        Bytes(Magic);
        U32(Version);
        U64(TensorCountOverride ?? (ulong)Tensors.Count);
        U64(KvCountOverride ?? (ulong)KeyValues.Count);
        foreach (var kv in KeyValues)
        {
            kv(this);
        }

        foreach (var t in Tensors)
        {
            String(t.Name);
            U32((uint)t.Dims.Length);
            foreach (var d in t.Dims)
            {
                U64(d);
            }

            U32(t.Type);
            U64(t.Offset);
        }

        while (_bytes.Count % Alignment != 0)
        {
            _bytes.Add(0);
        }

        var data = DataBytes ?? Tensors.Sum(t => (long)(t.Dims.Aggregate(1UL, (a, d) => a * d) * 4));
        _bytes.AddRange(new byte[data]);
        return [.. _bytes];
    }
}

/// <summary>A raw tensor info: name, dims (ne0 first), ggml type id, data offset.</summary>
internal sealed record RawTensor(string Name, ulong[] Dims, uint Type, ulong Offset);
