using System.Buffers.Binary;

namespace SovereignInference.Gguf;

/// <summary>
/// ggml <c>Q8_0</c> encoding: blocks of 32 values stored as an f16 scale <c>d = max|x| / 127</c> followed by
/// 32 signed bytes <c>q = round(x / d)</c> (34 bytes per block), matching <c>quantize_row_q8_0_ref</c>.
/// </summary>
public static class Q8_0Codec
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 34;

    /// <summary>Bytes needed to encode <paramref name="count"/> values (a multiple of 32).</summary>
    public static int EncodedSize(int count)
    {
        if (count % BlockSize != 0)
        {
            throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} values, got {count}.", nameof(count));
        }

        return count / BlockSize * BlockBytes;
    }

    /// <summary>Quantizes <paramref name="source"/> (length a multiple of 32) into <paramref name="destination"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination)
    {
        var size = EncodedSize(source.Length);
        if (destination.Length < size)
        {
            throw new ArgumentException("Destination is too small.", nameof(destination));
        }

        for (int b = 0, blocks = source.Length / BlockSize; b < blocks; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var y = destination.Slice(b * BlockBytes, BlockBytes);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            var d = amax / 127f;
            var id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(y, (Half)d);
            for (var j = 0; j < BlockSize; j++)
            {
                y[2 + j] = unchecked((byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
            }
        }
    }

    /// <summary>Decodes Q8_0 blocks back to floats (<c>x = d * q</c>).</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length % BlockBytes != 0)
        {
            throw new ArgumentException($"Q8_0 data must be a multiple of {BlockBytes} bytes.", nameof(source));
        }

        var blocks = source.Length / BlockBytes;
        if (destination.Length < blocks * BlockSize)
        {
            throw new ArgumentException("Destination is too small.", nameof(destination));
        }

        for (var b = 0; b < blocks; b++)
        {
            var y = source.Slice(b * BlockBytes, BlockBytes);
            var d = (float)BinaryPrimitives.ReadHalfLittleEndian(y);
            for (var j = 0; j < BlockSize; j++)
            {
                destination[(b * BlockSize) + j] = d * (sbyte)y[2 + j];
            }
        }
    }
}
