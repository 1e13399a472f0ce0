namespace SovereignInference.Gguf;

/// <summary>Produces tensor values row by row, in file order (one tensor at a time).</summary>
internal abstract class WeightSource
{
    /// <summary>Called before the rows of <paramref name="tensor"/> are requested (in order, starting at 0).</summary>
    public virtual void BeginTensor(LlamaTensorPlan tensor)
    {
    }

    /// <summary>Fills one row (<c>tensor.Columns</c> values).</summary>
    public abstract void FillRow(LlamaTensorPlan tensor, long row, Span<float> values);
}

/// <summary>
/// Seeded uniform weights scaled so activations stay bounded and logits are clearly peaked; the output rows of
/// <paramref name="silencedOutputRows"/> are zero (their tokens get logit 0).
/// </summary>
internal sealed class RandomWeightSource(ModelShape shape, IReadOnlySet<int>? silencedOutputRows = null) : WeightSource
{
    private SplitMix64 _rng;
    private float _scale;

    public override void BeginTensor(LlamaTensorPlan tensor)
    {
        _rng = SplitMix64.ForStream(shape.Seed, (ulong)tensor.Index);
        _scale = tensor.Role switch
        {
            LlamaTensorRole.TokenEmbedding => 1f,
            // Output rows ~ U(-a, a) with std 3/sqrt(n_embd): logits of a unit-RMS state get std ~3.
            LlamaTensorRole.Output => MathF.Sqrt(3f) * 3f / MathF.Sqrt(tensor.Columns),
            // std 1/sqrt(fan_in) for projection matrices.
            _ => MathF.Sqrt(3f) / MathF.Sqrt(tensor.Columns),
        };
    }

    public override void FillRow(LlamaTensorPlan tensor, long row, Span<float> values)
    {
        if (tensor.IsVector)
        {
            values.Fill(1f);
            return;
        }

        // Draw the row even when it is then zeroed, so every other row keeps its value.
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = _rng.NextSignedUnit() * _scale;
        }

        if (tensor.Role == LlamaTensorRole.Output && silencedOutputRows?.Contains((int)row) == true)
        {
            values.Clear();
        }
    }
}

/// <summary>
/// Weights of a scripted model: one-hot embeddings, zero attention/FFN outputs (the residual stream stays the
/// embedding), unit norms, and an output matrix that gives the scripted next token a large logit.
/// </summary>
internal sealed class ScriptedWeightSource(int[] next, float outputWeight) : WeightSource
{
    private readonly ILookup<int, int> _predecessors = Enumerable.Range(0, next.Length).ToLookup(t => next[t]);

    public override void FillRow(LlamaTensorPlan tensor, long row, Span<float> values)
    {
        values.Clear();
        switch (tensor.Role)
        {
            case LlamaTensorRole.OutputNorm or LlamaTensorRole.AttentionNorm or LlamaTensorRole.FeedForwardNorm:
                values.Fill(1f);
                break;
            case LlamaTensorRole.TokenEmbedding:
                values[(int)row] = 1f;
                break;
            case LlamaTensorRole.Output:
                foreach (var from in _predecessors[(int)row])
                {
                    values[from] = outputWeight;
                }

                break;
        }
    }
}
