using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SovereignInference.Engine.Sampling;

/// <summary>
/// Chooses the next token of one request from the model's logits. Each request owns one sampler with its own
/// xoshiro256** generator and token history, so its output depends only on its seed and its own logits, never on
/// what else is in the batch. Call <see cref="Sample(ReadOnlySpan{float})"/> once per decode step; the sampler
/// records the chosen token itself for the penalties. Not thread-safe (one request is decoded by one thread at a time).
/// </summary>
/// <remarks>
/// Steady-state <see cref="Sample(ReadOnlySpan{float})"/> allocates nothing except the returned top-logprobs array:
/// vocabulary-sized scratch comes from <see cref="ArrayPool{T}.Shared"/> for the duration of the call, so idle requests
/// hold no per-vocabulary memory. Top-k uses heap selection and top-p sorts only the candidates it needs. Greedy and
/// top-k without logit bias, penalties and logprobs read the row in place (no copy); greedy then costs one max pass
/// and one search. The log-sum-exp behind <see cref="SampledToken.Logprob"/> is computed only when
/// <see cref="SamplingParams.Logprobs"/> is set.
/// </remarks>
public sealed class TokenSampler
{
    /// <summary>Smallest log-probability reported (OpenAI's convention for impossible tokens); keeps results JSON-serializable.</summary>
    public const float LogprobFloor = -9999f;

    /// <summary>Candidates tried first by top-p without top-k before falling back to the histogram.</summary>
    private const int FastNucleusCandidates = 64;

    /// <summary>Histogram resolution for large nuclei: 2^(23-19) = 16 buckets per octave of probability.</summary>
    private const int HistogramShift = 19;

    /// <summary>Buckets covering weights in [0, 1] (the bit pattern of 1f is 0x3F800000).</summary>
    private const int HistogramBuckets = (0x3F800000 >> HistogramShift) + 1;

    private readonly SamplingParams _params;
    private readonly int _vocabSize;
    private readonly int[] _biasTokens;
    private readonly float[] _biasValues;

    // Repetition penalty window over prompt + generated tokens: ring of the last N tokens plus their counts.
    private readonly bool _repeatActive;
    private readonly int[]? _ring;
    private int _ringStart;
    private int _ringCount;
    private readonly Dictionary<int, int>? _windowCounts;

    // Frequency / presence penalties: counts over generated tokens only.
    private readonly Dictionary<int, int>? _generatedCounts;

    // Whether bias or penalties change the logits, and whether the row can be read in place (see SampleInPlace).
    private readonly bool _adjustsLogits;
    private readonly bool _inPlace;

    private Xoshiro256StarStar _rng;

    /// <summary>Creates a sampler for one request.</summary>
    /// <param name="p">The request's settings; validated against <paramref name="vocabSize"/>.</param>
    /// <param name="vocabSize">The model's vocabulary size: every logits span passed to <see cref="Sample(ReadOnlySpan{float})"/> has this length.</param>
    /// <param name="promptTokens">The prompt, whose last <see cref="SamplingParams.RepeatLastN"/> tokens seed the repetition-penalty window.</param>
    /// <exception cref="ArgumentException"><paramref name="p"/> is invalid (see <see cref="SamplingParams.Validate(int)"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is not positive.</exception>
    public TokenSampler(SamplingParams p, int vocabSize, ReadOnlySpan<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        p.Validate(vocabSize);

        _params = p;
        _vocabSize = vocabSize;
        Seed = p.Seed ?? RandomSeed();
        _rng = new Xoshiro256StarStar(Seed);

        var biasCount = p.LogitBias?.Count ?? 0;
        _biasTokens = biasCount == 0 ? [] : new int[biasCount];
        _biasValues = biasCount == 0 ? [] : new float[biasCount];
        if (p.LogitBias is { } bias)
        {
            var i = 0;
            foreach (var (token, value) in bias)
            {
                _biasTokens[i] = token;
                _biasValues[i] = value;
                i++;
            }
        }

        _repeatActive = p.RepeatPenalty != 1f && p.RepeatLastN != 0;
        if (_repeatActive)
        {
            _windowCounts = [];
            if (p.RepeatLastN > 0)
            {
                _ring = new int[p.RepeatLastN];
                promptTokens = promptTokens[Math.Max(0, promptTokens.Length - p.RepeatLastN)..];
            }

            foreach (var token in promptTokens)
            {
                PushWindow(token);
            }
        }

        if (p.FrequencyPenalty != 0f || p.PresencePenalty != 0f)
        {
            _generatedCounts = [];
        }

        _adjustsLogits = _biasTokens.Length > 0 || _windowCounts is not null || _generatedCounts is not null;
        _inPlace = !_adjustsLogits && !p.Logprobs && (p.Temperature == 0f || (p.TopK > 0 && p.TopK < vocabSize));
    }

    /// <summary>The seed actually in use: <see cref="SamplingParams.Seed"/>, or the random one chosen when that was null.</summary>
    public ulong Seed { get; }

    /// <summary>The settings this sampler applies.</summary>
    public SamplingParams Params => _params;

    /// <summary>Number of tokens sampled so far.</summary>
    public int GeneratedCount { get; private set; }

    /// <summary>
    /// Picks the next token from <paramref name="logits"/> (length = vocabulary size; -∞ allowed, NaN treated as -∞)
    /// and records it in the history used by the penalties.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="logits"/> does not have the vocabulary size.</exception>
    public SampledToken Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _vocabSize)
        {
            throw new ArgumentException($"Expected {_vocabSize} logits, got {logits.Length}.", nameof(logits));
        }

        return _inPlace ? SampleInPlace(logits) : SampleFromCopy(logits);
    }

    /// <summary>
    /// Greedy or top-k with no logit bias, no penalties and no logprobs: the row is read where it lies, with no
    /// vocabulary-sized copy. Greedy is one max pass and one search; top-k selects from the row itself. Same tokens as
    /// <see cref="SampleFromCopy"/> (pinned by TokenSamplerFastPathTests).
    /// </summary>
    private SampledToken SampleInPlace(ReadOnlySpan<float> logits)
    {
        int token;
        if (_params.Temperature == 0f)
        {
            var max = LogitMath.SanitizedMax(logits);
            token = max == float.NegativeInfinity ? LogitMath.ArgMax(logits) : logits.IndexOf(max);
        }
        else
        {
            token = DrawTopK(logits, logits, _params.TopK, 1f / _params.Temperature);
        }

        Record(token);
        return new SampledToken(token, float.NaN, null);
    }

    /// <summary>
    /// Everything else works on a sanitized copy of the row: bias and penalties change it, and the whole-vocabulary
    /// draws turn it into weights. The log-sum-exp is computed only when logprobs are wanted, and without bias or
    /// penalties the maximum found while copying is reused rather than searched for again.
    /// </summary>
    /// <remarks>
    /// Not inlined into <see cref="Sample"/>'s callers: compiled on its own, its exp passes get Vector.Exp's helpers
    /// inlined; inlined into a caller the JIT's inlining budget runs out first and they stay calls (measured 1.3x slower
    /// with logprobs on a 131k vocabulary).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private SampledToken SampleFromCopy(ReadOnlySpan<float> logits)
    {
        var rented = ArrayPool<float>.Shared.Rent(_vocabSize);
        try
        {
            var work = rented.AsSpan(0, _vocabSize);
            var rawMax = LogitMath.CopySanitizedMax(logits, work);
            var rawLogSumExp = _params.Logprobs && float.IsFinite(rawMax)
                ? rawMax + Math.Log(LogitMath.SumExp(work, rawMax, 1f))
                : double.NaN;

            ApplyBias(work);
            ApplyPenalties(work);

            var max = _adjustsLogits ? LogitMath.Max(work) : rawMax;
            var token = _params.Temperature == 0f ? Greedy(work, logits, max) : Draw(work, logits, max);
            return Finish(logits, token, rawLogSumExp);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Reports the chosen token (with its raw log-probabilities when wanted) and records it for the penalties.</summary>
    private SampledToken Finish(ReadOnlySpan<float> logits, int token, double rawLogSumExp)
    {
        var logprob = _params.Logprobs ? RawLogprob(logits[token], rawLogSumExp) : float.NaN;
        var top = _params.Logprobs && _params.TopLogprobs > 0
            ? TopRawLogprobs(logits, rawLogSumExp, _params.TopLogprobs)
            : null;

        Record(token);
        return new SampledToken(token, logprob, top);
    }

    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    private static float RawLogprob(float rawLogit, double logSumExp)
    {
        // NaN (no finite logits, NaN logit) and -∞ both map to the floor.
        var lp = (float)(rawLogit - logSumExp);
        return lp >= LogprobFloor ? Math.Min(lp, 0f) : LogprobFloor;
    }

    private static TokenLogprob[] TopRawLogprobs(ReadOnlySpan<float> logits, double logSumExp, int n)
    {
        Span<int> indices = stackalloc int[SamplingParams.MaxTopLogprobs];
        var count = TopSelector.SelectSorted(logits, Math.Min(n, logits.Length), float.NegativeInfinity, indices);
        var result = new TokenLogprob[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new TokenLogprob(indices[i], RawLogprob(logits[indices[i]], logSumExp));
        }

        return result;
    }

    private void ApplyBias(Span<float> work)
    {
        for (var i = 0; i < _biasTokens.Length; i++)
        {
            work[_biasTokens[i]] += _biasValues[i];
        }
    }

    private void ApplyPenalties(Span<float> work)
    {
        if (_windowCounts is not null)
        {
            var penalty = _params.RepeatPenalty;
            foreach (var token in _windowCounts.Keys)
            {
                if ((uint)token < (uint)work.Length)
                {
                    ref var x = ref work[token];
                    x = x <= 0f ? x * penalty : x / penalty;
                }
            }
        }

        if (_generatedCounts is not null)
        {
            var frequency = _params.FrequencyPenalty;
            var presence = _params.PresencePenalty;
            foreach (var (token, count) in _generatedCounts)
            {
                work[token] -= (count * frequency) + presence;
            }
        }
    }

    private static int Greedy(ReadOnlySpan<float> work, ReadOnlySpan<float> raw, float max)
    {
        return max == float.NegativeInfinity || float.IsNaN(max) ? LogitMath.ArgMax(raw) : work.IndexOf(max);
    }

    /// <param name="max">The largest value of <paramref name="work"/>.</param>
    private int Draw(Span<float> work, ReadOnlySpan<float> raw, float max)
    {
        var invTemperature = 1f / _params.Temperature;
        var topK = _params.TopK;

        if (topK > 0 && topK < work.Length)
        {
            return DrawTopK(work, raw, topK, invTemperature);
        }

        if (!float.IsFinite(max))
        {
            // Everything banned (or a +∞ logit): sampling is meaningless, fall back to the raw argmax.
            return LogitMath.ArgMax(raw);
        }

        // work[i] becomes the unnormalized probability exp((l - max) / T); the maximum is exactly 1.
        var total = LogitMath.ExpInPlace(work, max, invTemperature);
        return _params.TopP < 1f ? DrawNucleus(work, total) : DrawFullVocabulary(work, total);
    }

    /// <summary>Top-k (k &lt; vocab): select and sort k candidates, then softmax, top-p, min-p on those.</summary>
    private int DrawTopK(ReadOnlySpan<float> work, ReadOnlySpan<float> raw, int topK, float invTemperature)
    {
        var indices = ArrayPool<int>.Shared.Rent(topK);
        var weights = ArrayPool<float>.Shared.Rent(topK);
        try
        {
            var count = TopSelector.SelectSorted(work, topK, float.NegativeInfinity, indices);
            if (count == 0 || !float.IsFinite(work[indices[0]]))
            {
                return LogitMath.ArgMax(raw);
            }

            var max = work[indices[0]];
            double total = 0;
            for (var i = 0; i < count; i++)
            {
                var w = MathF.Exp((work[indices[i]] - max) * invTemperature);
                weights[i] = w;
                total += w;
            }

            count = TopPCut(weights.AsSpan(0, count), total);
            return DrawSorted(indices.AsSpan(0, count), weights.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(weights);
            ArrayPool<int>.Shared.Return(indices);
        }
    }

    /// <summary>
    /// Top-p over the whole vocabulary. Fast path: the best <see cref="FastNucleusCandidates"/> tokens, sorted, usually
    /// cover the nucleus of a peaked distribution. Otherwise a probability histogram finds the cut in O(vocab), and only
    /// the tokens of the bucket holding the cut are sorted.
    /// </summary>
    private int DrawNucleus(ReadOnlySpan<float> probs, double total)
    {
        var target = _params.TopP * total;
        Span<int> indices = stackalloc int[FastNucleusCandidates];
        Span<float> weights = stackalloc float[FastNucleusCandidates];
        var count = TopSelector.SelectSorted(probs, Math.Min(FastNucleusCandidates, probs.Length), 0f, indices);
        double cumulative = 0;
        for (var i = 0; i < count; i++)
        {
            weights[i] = probs[indices[i]];
            cumulative += weights[i];
            if (cumulative >= target)
            {
                return DrawSorted(indices[..(i + 1)], weights[..(i + 1)]);
            }
        }

        return count < FastNucleusCandidates
            ? DrawSorted(indices[..count], weights[..count]) // every token with non-zero probability is in
            : DrawLargeNucleus(probs, target, weights[0]);
    }

    /// <summary>
    /// The nucleus of a wide distribution in three passes: bucket the probabilities by their float bits
    /// (<see cref="FindBoundaryBucket"/>), sort only the bucket holding the cut (<see cref="FindCutKey"/>), then draw
    /// among the members (<see cref="DrawMember"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int DrawLargeNucleus(ReadOnlySpan<float> probs, double target, float maxWeight)
    {
        var mass = ArrayPool<double>.Shared.Rent(HistogramBuckets);
        var counts = ArrayPool<int>.Shared.Rent(HistogramBuckets);
        try
        {
            var (boundary, above) = FindBoundaryBucket(probs, target, mass, counts);
            var (cutKey, boundaryContributes) = FindCutKey(probs, boundary, counts[boundary], target - above);
            return DrawMember(probs, new NucleusMembership(boundary, cutKey, boundaryContributes, _params.MinP * maxWeight));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<double>.Shared.Return(mass);
        }
    }

    /// <summary>
    /// Buckets the positive probabilities (positive floats order like their bit patterns, so bits &gt;&gt; shift
    /// buckets them monotonically) and walks down from the most probable bucket: every bucket above the returned
    /// boundary is wholly in the nucleus, and <c>above</c> is their mass.
    /// </summary>
    private static (int Boundary, double Above) FindBoundaryBucket(ReadOnlySpan<float> probs, double target, double[] mass, int[] counts)
    {
        mass.AsSpan(0, HistogramBuckets).Clear();
        counts.AsSpan(0, HistogramBuckets).Clear();
        foreach (var w in probs)
        {
            if (w > 0f)
            {
                var bucket = Math.Min(BitConverter.SingleToInt32Bits(w) >> HistogramShift, HistogramBuckets - 1);
                mass[bucket] += w;
                counts[bucket]++;
            }
        }

        double above = 0;
        var boundary = HistogramBuckets - 1;
        for (; boundary > 0; boundary--)
        {
            if (above + mass[boundary] >= target)
            {
                break;
            }

            above += mass[boundary];
        }

        return (boundary, above);
    }

    /// <summary>Sorts only the boundary bucket (probability descending, id ascending) and finds the last key the nucleus needs from it.</summary>
    private static (ulong CutKey, bool BoundaryContributes) FindCutKey(ReadOnlySpan<float> probs, int boundary, int boundaryCount, double need)
    {
        var keys = ArrayPool<ulong>.Shared.Rent(Math.Max(1, boundaryCount));
        try
        {
            var m = 0;
            for (var i = 0; i < probs.Length; i++)
            {
                var w = probs[i];
                if (w > 0f)
                {
                    var bits = BitConverter.SingleToInt32Bits(w);
                    if (Math.Min(bits >> HistogramShift, HistogramBuckets - 1) == boundary)
                    {
                        keys[m++] = NucleusKey(bits, i);
                    }
                }
            }

            var boundaryKeys = keys.AsSpan(0, m);
            boundaryKeys.Sort();
            ulong cutKey = 0;
            double taken = 0;
            foreach (var key in boundaryKeys)
            {
                cutKey = key;
                taken += probs[(int)(uint)key];
                if (taken >= need)
                {
                    break;
                }
            }

            return (m > 0 ? cutKey : 0, m > 0);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
        }
    }

    /// <summary>Draws one member of the nucleus in proportion to its probability (the most probable token when none is a member).</summary>
    private int DrawMember(ReadOnlySpan<float> probs, NucleusMembership nucleus)
    {
        double sum = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            if (nucleus.Contains(probs[i], i))
            {
                sum += probs[i];
            }
        }

        var u = _rng.NextDouble() * sum;
        double cumulative = 0;
        var last = -1;
        for (var i = 0; i < probs.Length; i++)
        {
            if (nucleus.Contains(probs[i], i))
            {
                cumulative += probs[i];
                last = i;
                if (u < cumulative)
                {
                    return i;
                }
            }
        }

        return last >= 0 ? last : LogitMath.ArgMax(probs);
    }

    /// <summary>Sort key: ascending order = probability descending, then token id ascending.</summary>
    private static ulong NucleusKey(int bits, int index) => ((ulong)(uint)(int.MaxValue - bits) << 32) | (uint)index;

    /// <summary>Membership test for the nucleus found by <see cref="DrawLargeNucleus"/>, with min-p folded in.</summary>
    private readonly struct NucleusMembership(int boundary, ulong cutKey, bool boundaryContributes, float minWeight)
    {
        public bool Contains(float w, int index)
        {
            if (!(w > 0f) || w < minWeight)
            {
                return false;
            }

            var bits = BitConverter.SingleToInt32Bits(w);
            var bucket = Math.Min(bits >> HistogramShift, HistogramBuckets - 1);
            return bucket > boundary || (bucket == boundary && boundaryContributes && NucleusKey(bits, index) <= cutKey);
        }
    }

    /// <summary>No top-k, no top-p: draw from the whole vocabulary, minus tokens under the min-p threshold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int DrawFullVocabulary(ReadOnlySpan<float> probs, double total)
    {
        // The largest weight is exactly 1, so the min-p threshold is MinP itself.
        var threshold = _params.MinP;
        if (threshold > 0f)
        {
            total = 0;
            foreach (var w in probs)
            {
                if (w >= threshold)
                {
                    total += w;
                }
            }
        }

        var u = _rng.NextDouble() * total;
        double cumulative = 0;
        var last = -1;
        for (var i = 0; i < probs.Length; i++)
        {
            var w = probs[i];
            if (w > 0f && w >= threshold)
            {
                cumulative += w;
                last = i;
                if (u < cumulative)
                {
                    return i;
                }
            }
        }

        return last >= 0 ? last : LogitMath.ArgMax(probs);
    }

    /// <summary>Number of best-first <paramref name="weights"/> kept by top-p (at least one).</summary>
    private int TopPCut(ReadOnlySpan<float> weights, double total)
    {
        if (_params.TopP >= 1f)
        {
            return weights.Length;
        }

        var target = _params.TopP * total;
        double cumulative = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            cumulative += weights[i];
            if (cumulative >= target)
            {
                return i + 1;
            }
        }

        return weights.Length;
    }

    /// <summary>Applies min-p to best-first candidates and draws one of the survivors.</summary>
    private int DrawSorted(ReadOnlySpan<int> indices, ReadOnlySpan<float> weights)
    {
        var count = weights.Length;
        var threshold = _params.MinP * weights[0];
        if (threshold > 0f)
        {
            var keep = 1;
            while (keep < count && weights[keep] >= threshold)
            {
                keep++;
            }

            count = keep;
        }

        double total = 0;
        for (var i = 0; i < count; i++)
        {
            total += weights[i];
        }

        var u = _rng.NextDouble() * total;
        double cumulative = 0;
        var last = 0;
        for (var i = 0; i < count; i++)
        {
            if (weights[i] > 0f)
            {
                cumulative += weights[i];
                last = i;
                if (u < cumulative)
                {
                    return indices[i];
                }
            }
        }

        return indices[last];
    }

    private void Record(int token)
    {
        GeneratedCount++;
        if (_repeatActive)
        {
            PushWindow(token);
        }

        if (_generatedCounts is not null)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_generatedCounts, token, out _)++;
        }
    }

    private void PushWindow(int token)
    {
        var counts = _windowCounts!;
        if (_ring is not null)
        {
            if (_ringCount == _ring.Length)
            {
                var evicted = _ring[_ringStart];
                ref var evictedCount = ref CollectionsMarshal.GetValueRefOrNullRef(counts, evicted);
                if (--evictedCount == 0)
                {
                    counts.Remove(evicted);
                }

                _ring[_ringStart] = token;
                _ringStart = (_ringStart + 1) % _ring.Length;
            }
            else
            {
                _ring[(_ringStart + _ringCount) % _ring.Length] = token;
                _ringCount++;
            }
        }

        CollectionsMarshal.GetValueRefOrAddDefault(counts, token, out _)++;
    }
}
