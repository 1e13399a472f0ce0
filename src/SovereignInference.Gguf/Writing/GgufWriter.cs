using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Writes GGUF version 3 files in one forward pass: add metadata and tensor descriptions, call
/// <see cref="WriteHeader"/>, then supply each tensor's data in declaration order (in one or more chunks).
/// Tensors are laid out contiguously, each padded to the alignment, exactly as llama.cpp expects.
/// </summary>
/// <example>
/// <code>
/// using var w = GgufWriter.Create("model.gguf");
/// w.AddMetadata("general.architecture", GgufValue.FromString("llama"));
/// w.AddTensor("t", [64, 2], GgmlType.Q8_0);
/// w.WriteHeader();
/// w.WriteTensorValues(values);   // 128 floats, quantized on the fly
/// w.Complete();
/// </code>
/// </example>
public sealed class GgufWriter : IDisposable
{
    /// <summary>The GGUF version written.</summary>
    public const uint Version = 3;

    private const int ChunkValues = 64 * 1024;

    private readonly Stream _output;
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private long _nextOffset;
    private bool _headerWritten;
    private int _current;
    private long _currentWritten;
    private long _position;
    private bool _completed;

    /// <summary>Creates a writer over <paramref name="output"/>.</summary>
    /// <param name="output">Destination stream (written sequentially; buffered internally).</param>
    /// <param name="alignment">Data alignment, a power of two; non-default values are recorded as <c>general.alignment</c>.</param>
    /// <param name="leaveOpen">Whether to leave <paramref name="output"/> open on dispose.</param>
    public GgufWriter(Stream output, int alignment = GgufFile.DefaultAlignment, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a positive power of two.");
        }

        _output = new BufferedStream(output, 1 << 20);
        _leaveOpen = leaveOpen;
        _inner = output;
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment)
        {
            AddMetadata(GgufReader.AlignmentKey, GgufValue.FromUInt32((uint)alignment));
        }
    }

    /// <summary>Creates a writer that creates (or overwrites) the file at <paramref name="path"/>.</summary>
    public static GgufWriter Create(string path, int alignment = GgufFile.DefaultAlignment)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            return new GgufWriter(stream, alignment);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The data alignment.</summary>
    public int Alignment { get; }

    /// <summary>Adds a metadata key/value pair (before <see cref="WriteHeader"/>).</summary>
    public GgufWriter AddMetadata(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        EnsureNotStarted();
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Declares a tensor (before <see cref="WriteHeader"/>); its data must later be written in declaration order.</summary>
    /// <param name="name">Tensor name (at most 63 UTF-8 bytes).</param>
    /// <param name="dimensions">ggml dimensions, <c>ne[0]</c> first (1..4 positive values).</param>
    /// <param name="type">Storage type.</param>
    public GgufWriter AddTensor(string name, ReadOnlySpan<long> dimensions, GgmlType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        EnsureNotStarted();
        if (Encoding.UTF8.GetByteCount(name) >= GgufReader.MaxTensorNameBytes)
        {
            throw new ArgumentException($"Tensor name '{name}' is longer than {GgufReader.MaxTensorNameBytes - 1} bytes.", nameof(name));
        }

        if (dimensions.Length is < 1 or > GgufReader.MaxDimensions)
        {
            throw new ArgumentException($"Tensor '{name}' needs 1..{GgufReader.MaxDimensions} dimensions.", nameof(dimensions));
        }

        var traits = GgmlTypeTraits.Get(type);
        long elements = 1;
        foreach (var d in dimensions)
        {
            if (d <= 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a non-positive dimension.", nameof(dimensions));
            }

            elements = checked(elements * d);
        }

        if (dimensions[0] % traits.BlockSize != 0)
        {
            throw new ArgumentException($"Tensor '{name}': first dimension {dimensions[0]} is not a multiple of the {traits.Name} block size {traits.BlockSize}.", nameof(dimensions));
        }

        if (!_tensorNames.Add(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        var size = checked(elements / traits.BlockSize * traits.TypeSize);
        _tensors.Add(new PendingTensor(name, dimensions.ToArray(), type, _nextOffset, size, elements));
        _nextOffset = BoundedGgufStream.AlignUp(checked(_nextOffset + size), Alignment);
        return this;
    }

    /// <summary>Writes magic, counts, metadata, tensor infos and the padding before the data section.</summary>
    public void WriteHeader()
    {
        EnsureNotStarted();
        _headerWritten = true;
        WriteBytes("GGUF"u8);
        WriteUInt32(Version);
        WriteUInt64((ulong)_tensors.Count);
        WriteUInt64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(key);
            WriteUInt32((uint)value.Type);
            WriteValue(value);
        }

        foreach (var t in _tensors)
        {
            WriteString(t.Name);
            WriteUInt32((uint)t.Dimensions.Length);
            foreach (var d in t.Dimensions)
            {
                WriteUInt64((ulong)d);
            }

            WriteUInt32((uint)t.Type);
            WriteUInt64((ulong)t.Offset);
        }

        Pad();
        AdvanceCompletedTensors();
    }

    /// <summary>The tensor whose data is expected next, or null when all data has been written.</summary>
    public string? NextTensorName => _headerWritten && _current < _tensors.Count ? _tensors[_current].Name : null;

    /// <summary>
    /// Appends float values to the current tensor, converting them to its type (F32, F16, BF16 or Q8_0).
    /// May be called several times per tensor; for Q8_0 each chunk must be a multiple of 32 values.
    /// </summary>
    public void WriteTensorValues(ReadOnlySpan<float> values)
    {
        var t = CurrentTensor(values.Length);
        var traits = GgmlTypeTraits.Get(t.Type);
        if (values.Length % traits.BlockSize != 0)
        {
            throw new ArgumentException($"Chunk for '{t.Name}' must be a multiple of {traits.BlockSize} values.", nameof(values));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkValues * 4);
        try
        {
            while (!values.IsEmpty)
            {
                var n = Math.Min(values.Length, ChunkValues);
                var chunk = values[..n];
                var bytes = Encode(t, chunk, buffer);
                WriteBytes(buffer.AsSpan(0, bytes));
                values = values[n..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        AdvanceCompletedTensors();
    }

    /// <summary>Appends already encoded bytes to the current tensor (any type; whole blocks only).</summary>
    public void WriteTensorBytes(ReadOnlySpan<byte> data)
    {
        var t = CurrentTensor(elementCount: null);
        var traits = GgmlTypeTraits.Get(t.Type);
        if (data.Length % traits.TypeSize != 0)
        {
            throw new ArgumentException($"Data for '{t.Name}' must be whole {traits.Name} blocks.", nameof(data));
        }

        var elements = (long)data.Length / traits.TypeSize * traits.BlockSize;
        if (_currentWritten + elements > t.Elements)
        {
            throw new ArgumentException($"Too much data for tensor '{t.Name}'.", nameof(data));
        }

        _currentWritten += elements;
        WriteBytes(data);
        AdvanceCompletedTensors();
    }

    /// <summary>Flushes the file; throws if any declared tensor has not been fully written.</summary>
    public void Complete()
    {
        if (!_headerWritten)
        {
            WriteHeader();
        }

        if (_current < _tensors.Count)
        {
            throw new InvalidOperationException($"Tensor '{_tensors[_current].Name}' (and possibly later ones) has not been written.");
        }

        _output.Flush();
        _completed = true;
    }

    /// <summary>Flushes and releases the underlying stream (unless leaveOpen). Does not validate completeness.</summary>
    public void Dispose()
    {
        if (!_completed && _headerWritten)
        {
            _output.Flush();
        }

        if (_leaveOpen)
        {
            _output.Flush();
        }
        else
        {
            _output.Dispose();
            _inner.Dispose();
        }
    }

    private int Encode(PendingTensor t, ReadOnlySpan<float> values, byte[] buffer)
    {
        switch (t.Type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * 4), values[i]);
                }

                _currentWritten += values.Length;
                return values.Length * 4;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(buffer.AsSpan(i * 2), (Half)values[i]);
                }

                _currentWritten += values.Length;
                return values.Length * 2;
            case GgmlType.BF16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), FloatToBFloat16(values[i]));
                }

                _currentWritten += values.Length;
                return values.Length * 2;
            case GgmlType.Q8_0:
                var size = Q8_0Codec.EncodedSize(values.Length);
                Q8_0Codec.Quantize(values, buffer.AsSpan(0, size));
                _currentWritten += values.Length;
                return size;
            default:
                throw new NotSupportedException($"Converting floats to {t.Type} is not supported; use {nameof(WriteTensorBytes)}.");
        }
    }

    /// <summary>Round-to-nearest-even float to bfloat16, as ggml's <c>ggml_compute_fp32_to_bf16</c>.</summary>
    private static ushort FloatToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7fffffff) > 0x7f800000)
        {
            return (ushort)((bits >> 16) | 64); // quiet NaN
        }

        return (ushort)((bits + (0x7fff + ((bits >> 16) & 1))) >> 16);
    }

    private PendingTensor CurrentTensor(int? elementCount)
    {
        if (!_headerWritten)
        {
            throw new InvalidOperationException($"Call {nameof(WriteHeader)} before writing tensor data.");
        }

        if (_current >= _tensors.Count)
        {
            throw new InvalidOperationException("All declared tensors have already been written.");
        }

        var t = _tensors[_current];
        if (elementCount is { } n && _currentWritten + n > t.Elements)
        {
            throw new ArgumentException($"Too many values for tensor '{t.Name}' ({t.Elements} expected).");
        }

        return t;
    }

    private void AdvanceCompletedTensors()
    {
        while (_current < _tensors.Count && _currentWritten == _tensors[_current].Elements)
        {
            Pad();
            _current++;
            _currentWritten = 0;
        }
    }

    private void EnsureNotStarted()
    {
        if (_headerWritten)
        {
            throw new InvalidOperationException("The header has already been written.");
        }
    }

    private void Pad()
    {
        var padding = (int)(BoundedGgufStream.AlignUp(_position, Alignment) - _position);
        Span<byte> zeros = stackalloc byte[Math.Min(padding, 256)];
        zeros.Clear();
        while (padding > 0)
        {
            var n = Math.Min(padding, zeros.Length);
            WriteBytes(zeros[..n]);
            padding -= n;
        }
    }

    private void WriteValue(GgufValue value)
    {
        if (!value.IsArray)
        {
            WriteScalar(value.Type, value.RawValue);
            return;
        }

        WriteUInt32((uint)value.ElementType);
        var array = (Array)value.RawValue;
        WriteUInt64((ulong)array.Length);
        foreach (var item in array)
        {
            WriteScalar(value.ElementType, item!);
        }
    }

    private void WriteScalar(GgufValueType type, object value)
    {
        Span<byte> b = stackalloc byte[8];
        switch (type)
        {
            case GgufValueType.UInt8: b[0] = (byte)value; WriteBytes(b[..1]); break;
            case GgufValueType.Int8: b[0] = unchecked((byte)(sbyte)value); WriteBytes(b[..1]); break;
            case GgufValueType.Bool: b[0] = (bool)value ? (byte)1 : (byte)0; WriteBytes(b[..1]); break;
            case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value); WriteBytes(b[..2]); break;
            case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, (short)value); WriteBytes(b[..2]); break;
            case GgufValueType.UInt32: WriteUInt32((uint)value); break;
            case GgufValueType.Int32: BinaryPrimitives.WriteInt32LittleEndian(b, (int)value); WriteBytes(b[..4]); break;
            case GgufValueType.Float32: BinaryPrimitives.WriteSingleLittleEndian(b, (float)value); WriteBytes(b[..4]); break;
            case GgufValueType.UInt64: WriteUInt64((ulong)value); break;
            case GgufValueType.Int64: BinaryPrimitives.WriteInt64LittleEndian(b, (long)value); WriteBytes(b[..8]); break;
            case GgufValueType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(b, (double)value); WriteBytes(b[..8]); break;
            case GgufValueType.String: WriteString((string)value); break;
            default: throw new InvalidOperationException($"Cannot write a scalar of type {type}.");
        }
    }

    private void WriteString(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        WriteUInt64((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    private void WriteUInt32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        WriteBytes(b);
    }

    private void WriteUInt64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        WriteBytes(b);
    }

    private void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        _position += bytes.Length;
    }

    private sealed record PendingTensor(string Name, long[] Dimensions, GgmlType Type, long Offset, long Size, long Elements);
}
