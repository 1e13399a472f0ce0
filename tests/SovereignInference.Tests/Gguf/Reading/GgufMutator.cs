using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

/// <summary>
/// Rewrites a real GGUF with one change: its metadata and tensor list are editable, and tensor data is copied from the
/// original (a tensor whose shape changed gets zero-filled data of its new size), so the result is structurally valid.
/// </summary>
internal sealed class GgufMutator
{
    private readonly byte[] _source;

    public GgufMutator(byte[] source)
    {
        _source = source;
        var file = GgufReader.Read(new MemoryStream(source), "base");
        Metadata = [.. file.MetadataInOrder];
        Tensors = [.. file.Tensors.Select(t => new Tensor(t.Name, [.. t.Dimensions], t.Type, file.DataOffset + t.Offset, t.ByteSize))];
    }

    public List<KeyValuePair<string, GgufValue>> Metadata { get; }

    public List<Tensor> Tensors { get; }

    public GgufValue Get(string key) => Metadata.Single(kv => kv.Key == key).Value;

    public GgufMutator Set(string key, GgufValue value)
    {
        var i = Metadata.FindIndex(kv => kv.Key == key);
        if (i >= 0)
        {
            Metadata[i] = new(key, value);
        }
        else
        {
            Metadata.Add(new(key, value));
        }

        return this;
    }

    public GgufMutator Remove(string key)
    {
        if (Metadata.RemoveAll(kv => kv.Key == key) != 1)
        {
            throw new InvalidOperationException($"Key '{key}' is not in the base file.");
        }

        return this;
    }

    public GgufMutator RemoveTensor(string name)
    {
        if (Tensors.RemoveAll(t => t.Name == name) != 1)
        {
            throw new InvalidOperationException($"Tensor '{name}' is not in the base file.");
        }

        return this;
    }

    public GgufMutator Reshape(string name, params long[] dims)
    {
        var i = Tensors.FindIndex(t => t.Name == name);
        if (i < 0)
        {
            throw new InvalidOperationException($"Tensor '{name}' is not in the base file.");
        }

        Tensors[i] = Tensors[i] with { Dims = dims };
        return this;
    }

    public GgufMutator Retype(string name, GgmlType type)
    {
        var i = Tensors.FindIndex(t => t.Name == name);
        if (i < 0)
        {
            throw new InvalidOperationException($"Tensor '{name}' is not in the base file.");
        }

        Tensors[i] = Tensors[i] with { Type = type };
        return this;
    }

    public byte[] Build()
    {
        using var output = new MemoryStream();
        using (var w = new GgufWriter(output, leaveOpen: true))
        {
            foreach (var (k, v) in Metadata)
            {
                w.AddMetadata(k, v);
            }

            foreach (var t in Tensors)
            {
                w.AddTensor(t.Name, t.Dims, t.Type);
            }

            w.WriteHeader();
            foreach (var t in Tensors)
            {
                var size = new GgufTensorInfo(t.Name, t.Dims, t.Type, 0).ByteSize;
                w.WriteTensorBytes(size == t.SourceSize ? _source.AsSpan((int)t.SourceOffset, (int)size) : new byte[size]);
            }

            w.Complete();
        }

        return output.ToArray();
    }

    public sealed record Tensor(string Name, long[] Dims, GgmlType Type, long SourceOffset, long SourceSize);
}
