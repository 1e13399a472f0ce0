namespace SovereignInference.Gguf;

/// <summary>
/// SplitMix64 pseudo-random generator: tiny, fast and identical on every platform and runtime version
/// (unlike <see cref="Random"/>), so generated weights are reproducible from a seed.
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>Creates a generator from a seed.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>Derives an independent stream for <paramref name="index"/> (e.g. one per tensor).</summary>
    public static SplitMix64 ForStream(ulong seed, ulong index)
    {
        var mixer = new SplitMix64(seed ^ (0x9E3779B97F4A7C15UL * (index + 1)));
        return new SplitMix64(mixer.NextUInt64());
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform float in [-1, 1).</summary>
    public float NextSignedUnit() => ((NextUInt64() >> 40) * (1f / (1 << 23))) - 1f;
}
