using System.Numerics;
using System.Runtime.CompilerServices;

namespace SovereignInference.Engine.Sampling;

/// <summary>Vectorized whole-vocabulary passes used by <see cref="TokenSampler"/>.</summary>
internal static class LogitMath
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/>, replacing NaN by -∞, and returns the maximum (-∞ if none is finite or +∞).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CopySanitizedMax(ReadOnlySpan<float> source, Span<float> destination)
    {
        var negInf = new Vector<float>(float.NegativeInfinity);
        var maxV = negInf;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(source[i..]);
                v = Vector.ConditionalSelect(Vector.Equals(v, v), v, negInf);
                v.CopyTo(destination[i..]);
                maxV = Vector.Max(maxV, v);
            }
        }

        var max = float.NegativeInfinity;
        for (var lane = 0; lane < Vector<float>.Count; lane++)
        {
            max = Math.Max(max, maxV[lane]);
        }

        for (; i < source.Length; i++)
        {
            var x = source[i];
            if (float.IsNaN(x))
            {
                x = float.NegativeInfinity;
            }

            destination[i] = x;
            if (x > max)
            {
                max = x;
            }
        }

        return max;
    }

    /// <summary>Returns the maximum of <paramref name="values"/> with NaN read as -∞ (-∞ when nothing else is there); reads only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SanitizedMax(ReadOnlySpan<float> values)
    {
        var negInf = new Vector<float>(float.NegativeInfinity);
        var maxV = negInf;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                maxV = Vector.Max(maxV, Vector.ConditionalSelect(Vector.Equals(v, v), v, negInf));
            }
        }

        return FinishMax(maxV, values[i..]);
    }

    /// <summary>Returns the maximum of NaN-free <paramref name="values"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(ReadOnlySpan<float> values)
    {
        var maxV = new Vector<float>(float.NegativeInfinity);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                maxV = Vector.Max(maxV, new Vector<float>(values[i..]));
            }
        }

        return FinishMax(maxV, values[i..]);
    }

    /// <summary>The largest lane of <paramref name="maxV"/> and of the scalar <paramref name="rest"/> (a NaN there never wins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishMax(Vector<float> maxV, ReadOnlySpan<float> rest)
    {
        var max = float.NegativeInfinity;
        for (var lane = 0; lane < Vector<float>.Count; lane++)
        {
            max = Math.Max(max, maxV[lane]);
        }

        foreach (var v in rest)
        {
            if (v > max)
            {
                max = v;
            }
        }

        return max;
    }

    /// <summary>Returns Σ exp((x - <paramref name="max"/>) × <paramref name="scale"/>) over NaN-free <paramref name="values"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumExp(ReadOnlySpan<float> values, float max, float scale)
    {
        var sumV = Vector<float>.Zero;
        var maxV = new Vector<float>(max);
        var scaleV = new Vector<float>(scale);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                sumV += Vector.Exp((new Vector<float>(values[i..]) - maxV) * scaleV);
            }
        }

        double sum = 0;
        for (var lane = 0; lane < Vector<float>.Count; lane++)
        {
            sum += sumV[lane];
        }

        for (; i < values.Length; i++)
        {
            sum += MathF.Exp((values[i] - max) * scale);
        }

        return sum;
    }

    /// <summary>Replaces each x of NaN-free <paramref name="values"/> by exp((x - <paramref name="max"/>) × <paramref name="scale"/>) and returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double ExpInPlace(Span<float> values, float max, float scale)
    {
        var sumV = Vector<float>.Zero;
        var maxV = new Vector<float>(max);
        var scaleV = new Vector<float>(scale);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var slice = values[i..];
                var e = Vector.Exp((new Vector<float>(slice) - maxV) * scaleV);
                e.CopyTo(slice);
                sumV += e;
            }
        }

        double sum = 0;
        for (var lane = 0; lane < Vector<float>.Count; lane++)
        {
            sum += sumV[lane];
        }

        for (; i < values.Length; i++)
        {
            var e = MathF.Exp((values[i] - max) * scale);
            values[i] = e;
            sum += e;
        }

        return sum;
    }

    /// <summary>Index of the largest value, ties to the lowest index, NaN ignored; 0 when nothing exceeds -∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        var bestValue = float.NegativeInfinity;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] > bestValue)
            {
                bestValue = values[i];
                best = i;
            }
        }

        return best;
    }
}
