using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Reads and fully validates the header of a GGUF file (metadata and tensor infos) without loading tensor data.
/// Anything that could make llama.cpp abort or read out of bounds is rejected with a
/// <see cref="GgufFormatException"/> carrying a specific <see cref="GgufError"/>.
/// </summary>
public static class GgufReader
{
    /// <summary>The four magic bytes at the start of every GGUF file.</summary>
    public static ReadOnlySpan<byte> Magic => "GGUF"u8;

    /// <summary>Key that overrides the default data alignment.</summary>
    public const string AlignmentKey = "general.alignment";

    /// <summary>ggml's <c>GGML_MAX_DIMS</c>.</summary>
    public const int MaxDimensions = 4;

    /// <summary>ggml's <c>GGML_MAX_NAME</c>: tensor names must be shorter than this many bytes.</summary>
    public const int MaxTensorNameBytes = 64;

    // Smallest possible encodings, used to bound counts by the bytes that remain.
    private const int MinKeyValueBytes = 8 + 1 + 4 + 1; // key length, 1-byte key, type, 1-byte value
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8; // name length, 1-byte name, n_dims, one dim, type, offset

    /// <summary>Reads and validates the GGUF file at <paramref name="path"/>.</summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    public static GgufFile Read(string path, GgufReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, path, options);
    }

    /// <summary>
    /// Reads <paramref name="path"/> and validates it both structurally and as a model
    /// (<see cref="GgufModelValidator"/>): what the server requires before llama.cpp may see the file.
    /// </summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file or not a model llama.cpp can run safely.</exception>
    public static GgufFile ReadModel(string path, GgufReaderOptions? options = null)
    {
        var file = Read(path, options);
        GgufModelValidator.Validate(file);
        return file;
    }

    /// <summary>Reads and validates a GGUF file from a seekable stream (read from its start).</summary>
    /// <param name="stream">Seekable stream positioned anywhere; reading starts at offset 0.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <param name="options">Limits; <see cref="GgufReaderOptions.Default"/> when null.</param>
    /// <exception cref="GgufFormatException">The stream is not a valid GGUF file.</exception>
    public static GgufFile Read(Stream stream, string sourceName = "<stream>", GgufReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        options ??= GgufReaderOptions.Default;
        stream.Seek(0, SeekOrigin.Begin);
        var input = new BoundedGgufStream(stream, stream.Length, sourceName);
        return new HeaderParser(input, options).Parse();
    }

    private sealed class HeaderParser(BoundedGgufStream input, GgufReaderOptions options)
    {
        public GgufFile Parse()
        {
            Span<byte> magic = stackalloc byte[4];
            input.ReadExactly(magic, "magic");
            if (!magic.SequenceEqual(Magic))
            {
                throw input.Fail(GgufError.BadMagic, $"expected magic 'GGUF' but found 0x{Convert.ToHexString(magic)}", 0);
            }

            var version = input.ReadUInt32("version");
            if (version is not (2 or 3))
            {
                throw input.Fail(GgufError.UnsupportedVersion, $"version {version} is not supported (only 2 and 3)", 4);
            }

            var tensorCount = input.ReadUInt64("tensor count");
            var kvCount = input.ReadUInt64("metadata key/value count");
            CheckCount("tensor count", tensorCount, options.MaxTensorCount, MinTensorInfoBytes, 8);
            CheckCount("metadata key/value count", kvCount, options.MaxKeyValueCount, MinKeyValueBytes, 16);
            if ((kvCount * MinKeyValueBytes) + (tensorCount * MinTensorInfoBytes) > (ulong)input.Remaining)
            {
                throw input.Fail(GgufError.CountTooLarge,
                    $"{tensorCount} tensors and {kvCount} key/value pairs cannot fit in the {input.Remaining} bytes that remain", 8);
            }

            var metadata = ReadMetadata((int)kvCount);
            var alignment = ValidateAlignment(metadata);
            WellKnownMetadata.Validate(metadata, input);
            var tensors = ReadTensorInfos((int)tensorCount, alignment);
            var dataOffset = input.AlignedPosition(alignment);
            ValidateTensorPlacement(tensors, dataOffset);

            return new GgufFile(input.Name, version, metadata, tensors, dataOffset, alignment, input.Length);
        }

        private void CheckCount(string what, ulong count, long max, int minRecordBytes, long at)
        {
            if (count > (ulong)max)
            {
                throw input.Fail(GgufError.CountTooLarge, $"{what} {count} exceeds the limit of {max}", at);
            }

            if (count * (ulong)minRecordBytes > (ulong)input.Remaining)
            {
                throw input.Fail(GgufError.CountTooLarge,
                    $"{what} {count} needs at least {count * (ulong)minRecordBytes} bytes but only {input.Remaining} remain", at);
            }
        }

        private List<KeyValuePair<string, GgufValue>> ReadMetadata(int count)
        {
            var list = new List<KeyValuePair<string, GgufValue>>(Math.Min(count, 1024));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var keyAt = input.Position;
                var key = input.ReadString($"key of metadata entry {i}", options.MaxStringLength, strict: true);
                if (key.Length == 0)
                {
                    throw input.Fail(GgufError.InvalidName, $"metadata entry {i} has an empty key", keyAt);
                }

                if (!seen.Add(key))
                {
                    throw input.Fail(GgufError.DuplicateKey, $"metadata key '{key}' occurs more than once", keyAt);
                }

                var typeAt = input.Position;
                var type = (GgufValueType)input.ReadUInt32($"type of '{key}'");
                if (!type.IsDefined())
                {
                    throw input.Fail(GgufError.InvalidValueType, $"metadata key '{key}' has invalid value type {(uint)type}", typeAt);
                }

                list.Add(new(key, ReadValue(key, type)));
            }

            return list;
        }

        private GgufValue ReadValue(string key, GgufValueType type) => type switch
        {
            GgufValueType.String => GgufValue.FromString(input.ReadString($"value of '{key}'", options.MaxStringLength, strict: false)),
            GgufValueType.Array => ReadArray(key),
            _ => GgufValue.WrapScalar(type, ReadScalar(key, type)),
        };

        private object ReadScalar(string key, GgufValueType type)
        {
            var what = $"value of '{key}'";
            switch (type)
            {
                case GgufValueType.UInt8: return input.ReadUInt8(what);
                case GgufValueType.Int8: return (sbyte)input.ReadUInt8(what);
                case GgufValueType.UInt16: return input.ReadUInt16(what);
                case GgufValueType.Int16: return (short)input.ReadUInt16(what);
                case GgufValueType.UInt32: return input.ReadUInt32(what);
                case GgufValueType.Int32: return (int)input.ReadUInt32(what);
                case GgufValueType.UInt64: return input.ReadUInt64(what);
                case GgufValueType.Int64: return (long)input.ReadUInt64(what);
                case GgufValueType.Float32: return BitConverter.UInt32BitsToSingle(input.ReadUInt32(what));
                case GgufValueType.Float64: return BitConverter.UInt64BitsToDouble(input.ReadUInt64(what));
                case GgufValueType.Bool:
                    var at = input.Position;
                    var b = input.ReadUInt8(what);
                    return b switch
                    {
                        0 => false,
                        1 => true,
                        _ => throw input.Fail(GgufError.InvalidValue, $"boolean {what} has byte value {b} (expected 0 or 1)", at),
                    };
                default:
                    throw new InvalidOperationException($"Unexpected scalar type {type}.");
            }
        }

        private GgufValue ReadArray(string key)
        {
            var typeAt = input.Position;
            var elementType = (GgufValueType)input.ReadUInt32($"element type of array '{key}'");
            if (elementType == GgufValueType.Array)
            {
                throw input.Fail(GgufError.NestedArray, $"metadata key '{key}' is an array of arrays, which is not supported", typeAt);
            }

            if (!elementType.IsDefined())
            {
                throw input.Fail(GgufError.InvalidValueType, $"array '{key}' has invalid element type {(uint)elementType}", typeAt);
            }

            var countAt = input.Position;
            var count = input.ReadUInt64($"length of array '{key}'");
            var minElementBytes = elementType == GgufValueType.String ? 8 : elementType.FixedSize();
            if (count > (ulong)input.Remaining / (ulong)minElementBytes)
            {
                throw input.Fail(GgufError.ArrayTooLong,
                    $"array '{key}' declares {count} elements of {elementType} but only {input.Remaining} bytes remain", countAt);
            }

            if (count > (ulong)options.MaxArrayLength)
            {
                throw input.Fail(GgufError.ArrayTooLong, $"array '{key}' declares {count} elements, more than the limit of {options.MaxArrayLength}", countAt);
            }

            var n = (int)count;
            if (elementType == GgufValueType.String)
            {
                var strings = new string[n];
                for (var i = 0; i < n; i++)
                {
                    strings[i] = input.ReadString($"element {i} of array '{key}'", options.MaxStringLength, strict: false);
                }

                return GgufValue.WrapArray(elementType, strings);
            }

            return GgufValue.WrapArray(elementType, ReadFixedArray(key, elementType, n));
        }

        private Array ReadFixedArray(string key, GgufValueType elementType, int n)
        {
            var size = elementType.FixedSize();
            var bytes = new byte[checked(n * size)];
            var at = input.Position;
            input.ReadExactly(bytes, $"array '{key}'");
            switch (elementType)
            {
                case GgufValueType.UInt8: return bytes;
                case GgufValueType.Int8: return Decode<sbyte>(bytes);
                case GgufValueType.UInt16: return Decode<ushort>(bytes);
                case GgufValueType.Int16: return Decode<short>(bytes);
                case GgufValueType.UInt32: return Decode<uint>(bytes);
                case GgufValueType.Int32: return Decode<int>(bytes);
                case GgufValueType.Float32: return Decode<float>(bytes);
                case GgufValueType.UInt64: return Decode<ulong>(bytes);
                case GgufValueType.Int64: return Decode<long>(bytes);
                case GgufValueType.Float64: return Decode<double>(bytes);
                case GgufValueType.Bool:
                    var bools = new bool[n];
                    for (var i = 0; i < n; i++)
                    {
                        bools[i] = bytes[i] switch
                        {
                            0 => false,
                            1 => true,
                            _ => throw input.Fail(GgufError.InvalidValue, $"element {i} of boolean array '{key}' has byte value {bytes[i]}", at + i),
                        };
                    }

                    return bools;
                default:
                    throw new InvalidOperationException($"Unexpected element type {elementType}.");
            }
        }

        /// <summary>Reinterprets little-endian bytes as <typeparamref name="T"/> values.</summary>
        private static T[] Decode<T>(byte[] bytes)
            where T : unmanaged
        {
            var result = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
            if (!BitConverter.IsLittleEndian)
            {
                switch (Unsafe.SizeOf<T>())
                {
                    case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, ushort>(result.AsSpan()), MemoryMarshal.Cast<T, ushort>(result.AsSpan())); break;
                    case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, uint>(result.AsSpan()), MemoryMarshal.Cast<T, uint>(result.AsSpan())); break;
                    case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, ulong>(result.AsSpan()), MemoryMarshal.Cast<T, ulong>(result.AsSpan())); break;
                }
            }

            return result;
        }

        private int ValidateAlignment(List<KeyValuePair<string, GgufValue>> metadata)
        {
            foreach (var (key, value) in metadata)
            {
                if (key != AlignmentKey)
                {
                    continue;
                }

                // llama.cpp reads this key with gguf_get_val_u32, which aborts on any other type.
                if (value.Type != GgufValueType.UInt32)
                {
                    throw input.Fail(GgufError.BadAlignment, $"'{AlignmentKey}' must be a uint32 but is {value.Type}");
                }

                var alignment = (uint)value.RawValue;
                if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 1u << 30)
                {
                    throw input.Fail(GgufError.BadAlignment, $"'{AlignmentKey}' is {alignment}, which is not a power of two (1..2^30)");
                }

                return (int)alignment;
            }

            return GgufFile.DefaultAlignment;
        }

        private List<GgufTensorInfo> ReadTensorInfos(int count, int alignment)
        {
            var tensors = new List<GgufTensorInfo>(Math.Min(count, 4096));
            var names = new HashSet<string>(StringComparer.Ordinal);
            Span<long> dims = stackalloc long[MaxDimensions];
            for (var i = 0; i < count; i++)
            {
                var at = input.Position;
                var name = input.ReadString($"name of tensor {i}", options.MaxStringLength, strict: true);
                if (name.Length == 0)
                {
                    throw input.Fail(GgufError.InvalidName, $"tensor {i} has an empty name", at);
                }

                if (Encoding.UTF8.GetByteCount(name) >= MaxTensorNameBytes)
                {
                    throw input.Fail(GgufError.InvalidName, $"tensor {i} name is longer than {MaxTensorNameBytes - 1} bytes", at);
                }

                if (!names.Add(name))
                {
                    throw input.Fail(GgufError.DuplicateTensor, $"tensor name '{name}' occurs more than once", at);
                }

                var dimsAt = input.Position;
                var nDims = input.ReadUInt32($"n_dims of tensor '{name}'");
                if (nDims is < 1 or > MaxDimensions)
                {
                    throw input.Fail(GgufError.InvalidTensorDims, $"tensor '{name}' has {nDims} dimensions (must be 1..{MaxDimensions})", dimsAt);
                }

                ulong elements = 1;
                for (var d = 0; d < nDims; d++)
                {
                    var ne = input.ReadUInt64($"dimension {d} of tensor '{name}'");
                    if (ne == 0 || ne > long.MaxValue)
                    {
                        throw input.Fail(GgufError.InvalidTensorDims, $"tensor '{name}' has invalid dimension {d} = {ne}", dimsAt);
                    }

                    if (elements > long.MaxValue / ne)
                    {
                        throw input.Fail(GgufError.InvalidTensorDims, $"tensor '{name}' element count overflows 64 bits", dimsAt);
                    }

                    elements *= ne;
                    dims[d] = (long)ne;
                }

                var typeAt = input.Position;
                var rawType = input.ReadUInt32($"type of tensor '{name}'");
                if (!GgmlTypeTraits.TryGet((GgmlType)rawType, out var traits))
                {
                    throw input.Fail(GgufError.UnknownTensorType, $"tensor '{name}' has unknown or unsupported ggml type {rawType}", typeAt);
                }

                if (dims[0] % traits.BlockSize != 0)
                {
                    throw input.Fail(GgufError.TensorShapeNotBlockAligned,
                        $"tensor '{name}' of type {traits.Name} has first dimension {dims[0]}, not a multiple of the block size {traits.BlockSize}", dimsAt);
                }

                if (!traits.TryGetByteSize(elements, out var byteSize) || byteSize > long.MaxValue)
                {
                    throw input.Fail(GgufError.InvalidTensorDims, $"tensor '{name}' byte size overflows 64 bits", dimsAt);
                }

                var offsetAt = input.Position;
                var offset = input.ReadUInt64($"offset of tensor '{name}'");
                if (offset % (ulong)alignment != 0)
                {
                    throw input.Fail(GgufError.MisalignedTensor, $"tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}", offsetAt);
                }

                if (offset > long.MaxValue)
                {
                    throw input.Fail(GgufError.TensorOutOfBounds, $"tensor '{name}' offset {offset} is beyond the end of the file", offsetAt);
                }

                tensors.Add(new GgufTensorInfo(name, dims[..(int)nDims].ToArray(), (GgmlType)rawType, (long)offset));
            }

            return tensors;
        }

        private void ValidateTensorPlacement(List<GgufTensorInfo> tensors, long dataOffset)
        {
            if (tensors.Count == 0)
            {
                return;
            }

            var dataBytes = input.Length - dataOffset;
            if (dataBytes < 0)
            {
                throw input.Fail(GgufError.TensorOutOfBounds, $"the data section would start at byte {dataOffset}, past the end of the {input.Length}-byte file", dataOffset);
            }

            var ranges = new List<(long Start, long End, string Name)>(tensors.Count);
            foreach (var t in tensors)
            {
                var size = t.ByteSize;
                if (t.Offset > dataBytes || size > dataBytes - t.Offset)
                {
                    throw input.Fail(GgufError.TensorOutOfBounds,
                        $"tensor '{t.Name}' data [{dataOffset + t.Offset}, {dataOffset + t.Offset}+{size}) extends past the end of the {input.Length}-byte file (truncated?)",
                        dataOffset);
                }

                ranges.Add((t.Offset, t.Offset + size, t.Name));
            }

            ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
            for (var i = 1; i < ranges.Count; i++)
            {
                if (ranges[i].Start < ranges[i - 1].End)
                {
                    throw input.Fail(GgufError.TensorOverlap,
                        $"tensor '{ranges[i].Name}' data overlaps tensor '{ranges[i - 1].Name}'", dataOffset + ranges[i].Start);
                }
            }
        }
    }
}
