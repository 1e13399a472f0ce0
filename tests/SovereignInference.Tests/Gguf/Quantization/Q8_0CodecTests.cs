using System.Buffers.Binary;
using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class Q8_0CodecTests
{
    [Fact]
    public void Block_layout_is_f16_scale_then_32_signed_bytes()
    {
        var x = Enumerable.Range(0, 32).Select(i => (float)(i - 16)).ToArray(); // max |x| = 16
        var y = new byte[34];
        Q8_0Codec.Quantize(x, y);

        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(y);
        Assert.Equal((float)(Half)(16f / 127f), d);
        Assert.Equal(-127, (sbyte)y[2]);            // -16 / d
        Assert.Equal(0, (sbyte)y[2 + 16]);           // 0
        Assert.Equal((sbyte)MathF.Round(15f * 127f / 16f), (sbyte)y[2 + 31]);
    }

    [Fact]
    public void Zero_block_has_zero_scale_and_zero_quants()
    {
        var y = new byte[34];
        Array.Fill(y, (byte)0xAA);
        Q8_0Codec.Quantize(new float[32], y);
        Assert.All(y, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Rounds_half_away_from_zero_like_ggml_roundf()
    {
        var x = new float[32];
        x[0] = 127f;  // d = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.49f;
        var y = new byte[34];
        Q8_0Codec.Quantize(x, y);
        Assert.Equal([127, 3, -3, 0], y[2..6].Select(b => (int)(sbyte)b));
    }

    [Fact]
    public void Round_trip_error_is_within_half_a_step()
    {
        var rng = new SplitMix64(7);
        var x = Enumerable.Range(0, 32 * 50).Select(_ => rng.NextSignedUnit() * 3f).ToArray();
        var y = new byte[Q8_0Codec.EncodedSize(x.Length)];
        Q8_0Codec.Quantize(x, y);
        var back = new float[x.Length];
        Q8_0Codec.Dequantize(y, back);
        for (var b = 0; b < 50; b++)
        {
            var block = x.AsSpan(b * 32, 32);
            var amax = 0f;
            foreach (var v in block)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            var step = amax / 127f;
            for (var j = 0; j < 32; j++)
            {
                Assert.True(Math.Abs(block[j] - back[(b * 32) + j]) <= (step * 0.5f) + (amax * 2e-3f));
            }
        }
    }

    [Fact]
    public void Rejects_partial_blocks() =>
        Assert.Throws<ArgumentException>(() => Q8_0Codec.Quantize(new float[31], new byte[34]));
}
