using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Buffered little-endian reader over a seekable stream of known length. Every read is checked against the
/// remaining byte count before anything is allocated, and failures become <see cref="GgufFormatException"/>.
/// </summary>
internal sealed class BoundedGgufStream
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly UTF8Encoding LenientUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _bufferPos;
    private int _bufferLen;

    public BoundedGgufStream(Stream stream, long length, string name)
    {
        _stream = stream;
        Length = length;
        Name = name;
    }

    public string Name { get; }

    public long Length { get; }

    /// <summary>Absolute offset of the next byte to read.</summary>
    public long Position { get; private set; }

    public long Remaining => Length - Position;

    public GgufFormatException Fail(GgufError error, string reason, long? at = null) => new(error, Name, reason, at ?? Position);

    public void ReadExactly(Span<byte> destination, string what)
    {
        if (destination.Length > Remaining)
        {
            throw Fail(GgufError.Truncated, $"file ends while reading {what} ({destination.Length} bytes needed, {Remaining} remain)");
        }

        while (!destination.IsEmpty)
        {
            if (_bufferPos == _bufferLen)
            {
                _bufferPos = 0;
                _bufferLen = _stream.Read(_buffer, 0, _buffer.Length);
                if (_bufferLen == 0)
                {
                    throw Fail(GgufError.Truncated, $"stream ended early while reading {what}");
                }
            }

            var n = Math.Min(destination.Length, _bufferLen - _bufferPos);
            _buffer.AsSpan(_bufferPos, n).CopyTo(destination);
            _bufferPos += n;
            Position += n;
            destination = destination[n..];
        }
    }

    public byte ReadUInt8(string what)
    {
        Span<byte> b = stackalloc byte[1];
        ReadExactly(b, what);
        return b[0];
    }

    public ushort ReadUInt16(string what)
    {
        Span<byte> b = stackalloc byte[2];
        ReadExactly(b, what);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint ReadUInt32(string what)
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b, what);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public ulong ReadUInt64(string what)
    {
        Span<byte> b = stackalloc byte[8];
        ReadExactly(b, what);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    /// <summary>Reads a length-prefixed string after checking the length against the file and <paramref name="maxLength"/>.</summary>
    /// <param name="what">Description for error messages.</param>
    /// <param name="maxLength">Configured maximum length.</param>
    /// <param name="strict">True to reject invalid UTF-8 (names and keys); false to substitute U+FFFD.</param>
    public string ReadString(string what, long maxLength, bool strict)
    {
        var start = Position;
        var length = ReadUInt64($"length of {what}");
        if (length > (ulong)Remaining)
        {
            throw Fail(GgufError.StringTooLong, $"{what} declares {length} bytes but only {Remaining} bytes remain in the file", start);
        }

        if (length > (ulong)maxLength)
        {
            throw Fail(GgufError.StringTooLong, $"{what} declares {length} bytes, more than the limit of {maxLength}", start);
        }

        var n = (int)length;
        var rented = n > 512 ? ArrayPool<byte>.Shared.Rent(n) : null;
        try
        {
            Span<byte> bytes = rented is null ? stackalloc byte[n] : rented.AsSpan(0, n);
            ReadExactly(bytes, what);
            if (!strict)
            {
                return LenientUtf8.GetString(bytes);
            }

            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Fail(GgufError.InvalidName, $"{what} is not valid UTF-8", start);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Advances to the next multiple of <paramref name="alignment"/> without reading.</summary>
    public long AlignedPosition(int alignment) => AlignUp(Position, alignment);

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
