namespace SovereignInference.Engine.Scheduling;

/// <summary>
/// Sizes the prompt chunks of each step from the scheduler's own measurements, so that a step carrying prompt
/// tokens beside generating streams takes at most <c>factor</c> times a decode-only step of the same streams
/// (Sarathi-style stall-free batching). A fixed chunk cannot do this across hardware: on a GPU a 256-token chunk
/// costs little more than a decode step, on a CPU it costs ~30 decode tokens and every stream would stall for it.
/// </summary>
/// <remarks>
/// Learns two things from the steps it is shown: the duration of a decode-only step for each number of generating
/// sequences, and the extra time one prompt token adds to a step. Step times are only ever inflated by noise (another
/// thread or process took a core), so both are medians of recent samples (<see cref="DecodeWindow"/> decode-only steps
/// of that size, <see cref="PromptWindow"/> steps with prompt tokens): a few preempted steps move neither. A long prompt
/// beside streams would leave the decode estimate unrefreshed, so every <see cref="RefreshSteps"/> steps with prompt
/// tokens (and whenever no decode time is known) one step carries no prompt tokens and measures it afresh. While the
/// batch is still filling (as many prompts wait as streams generate) the same two estimates decide how many whole prompts
/// go into one step (see <see cref="Burst"/>). Until the cost of a prompt token is known, chunks
/// are <see cref="WarmupChunk"/>. Used only from the scheduler thread.
/// </remarks>
public sealed class PrefillBudget
{
    /// <summary>Prompt tokens per step before the cost of a prompt token has been measured.</summary>
    public const int WarmupChunk = 16;

    /// <summary>Fewest prompt tokens per step, so a prompt always progresses however slow its tokens are.</summary>
    public const int MinChunk = 4;

    /// <summary>Fewest prompt tokens in a step for it to count towards the cost of a prompt token (once one sample exists).</summary>
    public const int MinSampleTokens = 16;

    /// <summary>Steps with prompt tokens beside generating streams before a decode-only step re-measures the decode.</summary>
    public const int RefreshSteps = 16;

    /// <summary>Recent decode-only steps per batch size whose median is the decode estimate.</summary>
    public const int DecodeWindow = 8;

    /// <summary>Recent steps with prompt tokens whose median cost per prompt token is the prompt estimate.</summary>
    public const int PromptWindow = 16;

    private readonly int _maxChunk;
    private readonly double _factor;
    private readonly double[][] _decodeSeconds;
    private readonly int[] _decodeSamples;
    private readonly double[] _promptSeconds = new double[PromptWindow];
    private int _promptSamples;
    private int _stepsSinceDecodeOnly;

    /// <param name="maxChunk">Most prompt tokens in one step (the <c>--prefill-chunk</c> option).</param>
    /// <param name="factor">Longest step with prompt tokens, as a multiple of a decode-only step; 0 turns sizing off (always <paramref name="maxChunk"/>).</param>
    /// <param name="maxSequences">Sequence slots of the model.</param>
    public PrefillBudget(int maxChunk, double factor, int maxSequences)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunk, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        if (!(factor == 0 || factor > 1) || double.IsInfinity(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "must be 0 (off) or a finite number above 1");
        }

        _maxChunk = maxChunk;
        _factor = factor;
        _decodeSeconds = new double[maxSequences + 1][];
        _decodeSamples = new int[maxSequences + 1];
    }

    /// <summary>
    /// Seconds a decode-only step of this many sequences is expected to take: measured at that count, or interpolated
    /// between the nearest measured counts below and above; 0 when neither (measure first). Borrowing a smaller count's
    /// time alone would understate the decode and so overstate what each prompt token beside it costs: 5 streams
    /// charged with 1 stream's 12 ms once made a prompt token look 6 ms dear, and prompts went in 4-token chunks.
    /// </summary>
    public double DecodeStepSeconds(int decodeSequences)
    {
        var n = Math.Min(decodeSequences, _decodeSeconds.Length - 1);
        if (n <= 0)
        {
            return 0;
        }

        if (_decodeSamples[n] > 0)
        {
            return Median(_decodeSeconds[n], _decodeSamples[n]);
        }

        var below = NearestMeasured(n, -1);
        var above = NearestMeasured(n, +1);
        if (below == 0 || above == 0)
        {
            return 0;
        }

        var low = Median(_decodeSeconds[below], _decodeSamples[below]);
        var high = Median(_decodeSeconds[above], _decodeSamples[above]);
        return low + ((high - low) * (n - below) / (above - below));
    }

    /// <summary>The nearest count in direction <paramref name="step"/> from <paramref name="n"/> with a decode-only measurement; 0 if none.</summary>
    private int NearestMeasured(int n, int step)
    {
        for (var m = n + step; m > 0 && m < _decodeSamples.Length; m += step)
        {
            if (_decodeSamples[m] > 0)
            {
                return m;
            }
        }

        return 0;
    }

    /// <summary>Extra seconds one prompt token adds to a step (0 = not measured yet).</summary>
    public double SecondsPerPromptToken => _promptSamples == 0 ? 0 : Median(_promptSeconds, _promptSamples);

    /// <summary>
    /// Prompt tokens the next step may carry beside <paramref name="decodeSequences"/> generating sequences, given the
    /// remaining prompt tokens of the sequences waiting for their prompt in the order the budget goes to them (oldest
    /// first); 0 when the next step should be decode-only to measure the decode.
    /// </summary>
    /// <remarks>
    /// While at least as many sequences wait for their prompt as generate, the batch is still filling (a burst of
    /// arrivals, a wave of requests) and <see cref="Burst"/> decides. Otherwise the streams are the majority and their
    /// steps are kept short: the step takes at most <c>factor</c> times a decode-only step.
    /// </remarks>
    public int Next(int decodeSequences, ReadOnlySpan<int> waitingPromptTokens = default)
    {
        if (_factor == 0)
        {
            return _maxChunk;
        }

        if (decodeSequences == 0 || waitingPromptTokens.Length >= decodeSequences)
        {
            return Burst(decodeSequences, waitingPromptTokens);
        }

        var decode = DecodeStepSeconds(decodeSequences);
        if (decode <= 0 || _stepsSinceDecodeOnly >= RefreshSteps)
        {
            return 0;
        }

        var perToken = SecondsPerPromptToken;
        if (perToken <= 0)
        {
            return Math.Min(WarmupChunk, _maxChunk);
        }

        var tokens = (_factor - 1) * decode / perToken;
        return (int)Math.Clamp(Math.Floor(tokens), Math.Min(MinChunk, _maxChunk), _maxChunk);
    }

    /// <summary>
    /// A filling batch: whole prompts go into the step one after another for as long as taking the next one saves the
    /// prompts from it onwards more than it delays those already in the step. Taking prompt j now rather than in a step
    /// of its own spares it and every prompt behind it that step's fixed cost (a decode-only step: reading the weights
    /// once more), and makes each of the j prompts already in the step wait for its tokens. Where a step's time grows
    /// with its tokens (a CPU: 48 prompt tokens cost ~8 decode steps) a wave's prompts go one per step, so the first
    /// answers start after one prompt's time instead of all of them; where a step costs about the same whatever it
    /// carries (a GPU) the wave goes in one step, as llama-server and vLLM batch it. Before any prompt token has been
    /// measured, the full chunk.
    /// </summary>
    private int Burst(int decodeSequences, ReadOnlySpan<int> waiting)
    {
        var perToken = SecondsPerPromptToken;
        if (waiting.Length <= 1 || perToken <= 0)
        {
            return _maxChunk;
        }

        // The fixed cost: a decode-only step of the streams, or with none yet of one stream (reading the weights once).
        // Not measured yet: beside streams, one decode-only step measures it; with no stream, the first prompt goes
        // alone and the next step measures it.
        var fixedCost = DecodeStepSeconds(Math.Max(decodeSequences, 1));
        if (fixedCost <= 0)
        {
            return decodeSequences > 0 ? 0 : Math.Min(waiting[0], _maxChunk);
        }

        long tokens = waiting[0];
        for (var j = 1; j < waiting.Length && tokens < _maxChunk; j++)
        {
            if ((waiting.Length - j) * fixedCost <= j * perToken * waiting[j])
            {
                break;
            }

            tokens += waiting[j];
        }

        return (int)Math.Min(tokens, _maxChunk);
    }

    /// <summary>Records one step: <paramref name="decodeSequences"/> generating tokens and <paramref name="promptTokens"/> prompt tokens took <paramref name="seconds"/>.</summary>
    public void Observe(int decodeSequences, int promptTokens, double seconds)
    {
        if (seconds <= 0 || double.IsNaN(seconds) || (uint)decodeSequences >= (uint)_decodeSeconds.Length)
        {
            return;
        }

        if (promptTokens == 0)
        {
            if (decodeSequences > 0)
            {
                var window = _decodeSeconds[decodeSequences] ??= new double[DecodeWindow];
                Record(window, ref _decodeSamples[decodeSequences], seconds);
                _stepsSinceDecodeOnly = 0;
            }

            return;
        }

        // A prompt-only step is all prompt tokens; beside decoding streams, what the step took beyond their decode.
        if (decodeSequences > 0)
        {
            _stepsSinceDecodeOnly++;
        }

        var baseline = decodeSequences == 0 ? 0 : DecodeStepSeconds(decodeSequences);
        if (decodeSequences > 0 && baseline == 0)
        {
            return;
        }

        // A step's time varies by a few milliseconds whatever it carries; over a handful of prompt tokens that noise
        // would be most of the sample (and small chunks from a high estimate would only feed it more such samples).
        if (promptTokens < MinSampleTokens && _promptSamples > 0)
        {
            return;
        }

        var perToken = Math.Max(seconds - baseline, 0) / promptTokens;
        if (perToken <= 0)
        {
            return;
        }

        Record(_promptSeconds, ref _promptSamples, perToken);
    }

    /// <summary>Writes a sample into the ring; the count stays below twice the ring's length (a server runs for months).</summary>
    private static void Record(double[] ring, ref int samples, double value)
    {
        ring[samples % ring.Length] = value;
        samples = samples + 1 >= 2 * ring.Length ? samples + 1 - ring.Length : samples + 1;
    }

    /// <summary>Median of the ring's samples (<paramref name="samples"/> written so far, the last <c>ring.Length</c> kept).</summary>
    private static double Median(double[] ring, int samples)
    {
        Span<double> sorted = stackalloc double[ring.Length];
        sorted = sorted[..Math.Min(samples, ring.Length)];
        ring.AsSpan(0, sorted.Length).CopyTo(sorted);
        sorted.Sort();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
