using BenchmarkDotNet.Attributes;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Benchmarks;

/// <summary>
/// The prefill budget's work in one scheduler step beside 8 generating streams: <see cref="PrefillBudget.Next"/> to size
/// the step's prompt chunk and <see cref="PrefillBudget.Observe"/> to learn from its duration (medians of small rings).
/// </summary>
public class PrefillBudgetBenchmarks
{
    /// <summary>One sequence waits with a 512-token prompt (the streams are the majority, so the step is kept short).</summary>
    private static readonly int[] Waiting = [512];
    private readonly PrefillBudget _budget = new(256, 2, 8);
    private int _step;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < 64; i++)
        {
            _budget.Observe(8, 0, 0.035 + (i % 5 * 0.001));
            _budget.Observe(8, 12, 0.070 + (i % 7 * 0.001));
        }
    }

    [Benchmark]
    [AllocationBudget(0)]
    public int Step()
    {
        var chunk = _budget.Next(8, Waiting);
        var step = _step++;
        _budget.Observe(8, chunk, 0.035 + (chunk * 0.0028) + (step % 7 * 0.0005));
        return chunk;
    }
}
