using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// A managed <see cref="IModelRunner"/> for scheduler tests: no llama.cpp, no weights. Each sequence's KV cache is a
/// list of the tokens decoded into it; a logits row puts all weight on the token <see cref="NextToken"/> plans for the
/// tokens the sequence holds at that point (tokens in, planned logits out). Every decode batch is recorded, and every
/// call the scheduler should never make (a position that does not extend its sequence, a token outside the vocabulary,
/// a batch over <see cref="MaxBatchTokens"/>, logits that were not asked for) is recorded in <see cref="Violations"/> and
/// fails the decode. Only the scheduler thread calls Decode/Truncate; the recordings may be read from any thread.
/// </summary>
public sealed class ScriptedModelRunner : IModelRunner
{
    /// <summary>The logit of the planned token; every other token gets 0.</summary>
    public const float PlannedLogit = 10f;

    private readonly Lock _lock = new();
    private readonly List<int>[] _kv;
    private readonly List<BatchToken[]> _batches = [];
    private readonly List<(int Sequence, int From)> _truncations = [];
    private readonly List<string> _violations = [];
    private readonly Func<IReadOnlyList<int>, int> _nextToken;
    private float[][] _logits = [];
    private BatchToken[] _last = [];

    /// <param name="nextToken">
    /// The planned next token for a sequence holding these tokens (prompt and generated, in order). Default: the last
    /// token plus one, wrapping below <paramref name="vocabSize"/> - 1 (so the default plan never reaches the last
    /// token, which <see cref="ScriptedTokenizer"/> uses as end of generation).
    /// </param>
    public ScriptedModelRunner(int maxSequences = 2, int sequenceContextSize = 64, int maxBatchTokens = 64, int vocabSize = 100, Func<IReadOnlyList<int>, int>? nextToken = null)
    {
        MaxSequences = maxSequences;
        SequenceContextSize = sequenceContextSize;
        MaxBatchTokens = maxBatchTokens;
        VocabSize = vocabSize;
        _nextToken = nextToken ?? (tokens => (tokens[^1] + 1) % (vocabSize - 1));
        _kv = Enumerable.Range(0, maxSequences).Select(_ => new List<int>()).ToArray();
    }

    public int VocabSize { get; }

    public int SequenceContextSize { get; }

    public int MaxSequences { get; }

    public int MaxBatchTokens { get; }

    /// <summary>Called on the scheduler thread before each decode with its index (0-based) and batch, e.g. to cancel a request at an exact step.</summary>
    public Action<int, BatchToken[]>? BeforeDecode { get; set; }

    /// <summary>Every decode batch so far, in order.</summary>
    public IReadOnlyList<BatchToken[]> Batches
    {
        get
        {
            lock (_lock)
            {
                return [.. _batches];
            }
        }
    }

    /// <summary>Every TruncateSequence call so far: sequence and first dropped position.</summary>
    public IReadOnlyList<(int Sequence, int From)> Truncations
    {
        get
        {
            lock (_lock)
            {
                return [.. _truncations];
            }
        }
    }

    /// <summary>Calls the scheduler should never make; empty in a passing test.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>The tokens the KV cache of <paramref name="sequence"/> holds, position by position.</summary>
    public int[] KvTokens(int sequence)
    {
        lock (_lock)
        {
            return [.. _kv[sequence]];
        }
    }

    /// <summary>Batch entries of one sequence in one batch, in batch order.</summary>
    public static BatchToken[] Of(BatchToken[] batch, int sequence) => batch.Where(t => t.Sequence == sequence).ToArray();

    public void Decode(ReadOnlySpan<BatchToken> batch)
    {
        var copy = batch.ToArray();
        var index = Batches.Count;
        BeforeDecode?.Invoke(index, copy);
        lock (_lock)
        {
            _batches.Add(copy);
            var problem = Check(copy);
            if (problem is not null)
            {
                _violations.Add($"batch {index}: {problem}");
                throw new EngineException(EngineErrorCode.BackendFailure, $"scripted runner: {problem}");
            }

            _logits = new float[copy.Length][];
            for (var i = 0; i < copy.Length; i++)
            {
                var kv = _kv[copy[i].Sequence];
                kv.Add(copy[i].Token);
                if (copy[i].WantLogits)
                {
                    var row = new float[VocabSize];
                    row[_nextToken(kv)] = PlannedLogit;
                    _logits[i] = row;
                }
            }

            _last = copy;
        }
    }

    public ReadOnlySpan<float> GetLogits(int batchIndex)
    {
        lock (_lock)
        {
            if ((uint)batchIndex >= (uint)_last.Length || _logits[batchIndex] is null)
            {
                _violations.Add($"logits of batch entry {batchIndex}, which did not ask for them");
                throw new InvalidOperationException($"no logits for batch entry {batchIndex}");
            }

            return _logits[batchIndex];
        }
    }

    public void TruncateSequence(int sequence, int fromPosition)
    {
        lock (_lock)
        {
            _truncations.Add((sequence, fromPosition));
            var kv = _kv[sequence];
            if (fromPosition < kv.Count)
            {
                kv.RemoveRange(fromPosition, kv.Count - fromPosition);
            }
        }
    }

    public int SequenceLength(int sequence)
    {
        lock (_lock)
        {
            return _kv[sequence].Count;
        }
    }

    public void Dispose()
    {
    }

    /// <summary>What is wrong with a batch, or null. Positions must extend each sequence exactly, in batch order.</summary>
    private string? Check(BatchToken[] batch)
    {
        if (batch.Length == 0 || batch.Length > MaxBatchTokens)
        {
            return $"{batch.Length} tokens (1..{MaxBatchTokens} allowed)";
        }

        var next = _kv.Select(kv => kv.Count).ToArray();
        foreach (var t in batch)
        {
            if ((uint)t.Sequence >= (uint)MaxSequences)
            {
                return $"sequence {t.Sequence} of {MaxSequences}";
            }

            if ((uint)t.Token >= (uint)VocabSize)
            {
                return $"token {t.Token} outside the vocabulary of {VocabSize}";
            }

            if (t.Position != next[t.Sequence])
            {
                return $"sequence {t.Sequence} got position {t.Position}, its cache ends at {next[t.Sequence]}";
            }

            if (t.Position >= SequenceContextSize)
            {
                return $"position {t.Position} past the sequence context of {SequenceContextSize}";
            }

            next[t.Sequence]++;
        }

        return null;
    }
}
